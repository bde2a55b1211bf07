/**
 * A child process for close-in-flight.test.ts (issue 28): closes a PC/SC reader while an APDU to an
 * in-process vpcd card is in flight, and prints what happened as one JSON line. Run as
 * `node --import tsx test/nfc/close-in-flight.ts <vpcd port> <late|never>` against a running pcscd.
 *
 * The card holds its answer until the reader's close() was called — the moment a libuv worker
 * holds the reader's mutex inside SCardTransmit, waiting for this process to answer:
 * - late: the card answers 100 ms later, from this (main) thread;
 * - never: the card never answers; close() gives up after 500 ms, then the card is lifted.
 * Either way the process must then exit by itself: PC/SC's threads (ours and the other vpcd
 * reader's) were all closed.
 * Closing natively at that moment blocks the main thread on the mutex, so the card never answers
 * and the process never exits: the parent sees the freeze as a child that outlives its bound.
 */
import { CardApplet, PcscReader, selectCarrierCommand, VpcdCard } from '../../adapters/nfc/index.js'

const port = Number(process.argv[2])
const mode = process.argv[3] === 'never' ? 'never' : 'late'
const applet = new CardApplet()
let reader: PcscReader | undefined
let closing: Promise<unknown> | undefined
const t0 = performance.now()

const card = new VpcdCard(
  {
    process(capdu) {
      if (closing || !reader) return applet.process(capdu)
      const r = reader
      closing = r.close({ timeoutMs: 500 }).then(
        () => ({ closed: true }),
        (err: { code?: string }) => ({ closed: false, code: err.code }),
      )
      if (mode === 'never') return new Promise<Uint8Array>(() => {}) // until the card leaves the field
      return new Promise((resolve) => setTimeout(() => resolve(applet.process(capdu)), 100))
    },
  },
  { port },
)

reader = await PcscReader.open({ name: 'Virtual PCD 00 00', timeoutMs: 10_000 })
await card.insert()
await reader.waitForCard(10_000)
const transmit = reader.transmit(selectCarrierCommand()).then(
  // the status word, or how many bytes came back when the card left instead of answering
  (r) => (r.length >= 2 ? { sw: ((r.at(-2) as number) << 8) | (r.at(-1) as number) } : { answerBytes: r.length }),
  (err: { code?: string; message: string }) => ({ transmitError: err.code ?? err.message }),
)
// in 'never' the close gives up first; then lifting the card ends the transmit that held it
const close = await new Promise<unknown>((resolve) => {
  const wait = setInterval(() => {
    if (!closing) return
    clearInterval(wait)
    resolve(closing)
  }, 1)
})
card.remove()
const result = { mode, ...(close as object), ...(await transmit), ms: Math.round(performance.now() - t0) }
console.log(JSON.stringify(result))
