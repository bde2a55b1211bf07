/** Cursor shown, line wrap on: how a terminal is left, whatever a display did to it. */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h'
const HIDE = '\x1b[?25l\x1b[?7l'

/**
 * While a display owns the terminal (a progress bar, the QR animation): Ctrl-C or SIGTERM put the
 * terminal back and exit 130 / 143 (128 + the signal's number), the shell convention. The returned
 * function gives the terminal back when the display ends normally.
 */
export function holdTerminal(stream: NodeJS.WriteStream, o: { hide?: boolean } = {}): () => void {
  if (o.hide) stream.write(HIDE)
  const onSignal = (signal: NodeJS.Signals) => {
    stream.write(RESTORE_TERMINAL)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let released = false
  return () => {
    if (released) return
    released = true
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    stream.write(RESTORE_TERMINAL)
  }
}
