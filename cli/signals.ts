/** Resolves at Ctrl-C or SIGTERM, to the signal's name: how the long-running commands (broker, qr serve, nfc card/tag) end. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.once('SIGINT', on)
    process.once('SIGTERM', on)
  })
}
