/** Resolves at Ctrl-C or SIGTERM: how the long-running commands (broker, qr serve, nfc card/tag) end. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
}
