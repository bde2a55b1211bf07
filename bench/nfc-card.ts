// The card of the NFC bench in its own process, as a phone is its own device: it runs our applet
// and a receiving transport ('applet'), or answers each APDU with a response of a recorded size
// ('replay', the raw baseline). Talks to the bench over IPC. The applet's process is warmed up by a
// first transfer, as a phone's app is running before the tap.
import { type ApduResponder, CardApplet, encodeResponse, VpcdCard } from '../adapters/nfc/index.js'
import { createTransport } from '../src/index.js'

const [mode, port] = [process.argv[2], Number(process.argv[3])]
const send = (m: unknown) => process.send?.(m)

if (mode === 'applet') {
  const applet = new CardApplet({ mtu: 4096 })
  const log: { command: number; response: number }[] = []
  const rec: ApduResponder = {
    process(c) {
      const r = applet.process(c)
      log.push({ command: c.length, response: r.length })
      return r
    },
  }
  const card = new VpcdCard(rec, { port })
  const t = createTransport(applet)
  void (async () => {
    for await (const r of t.receive()) send({ received: r.data.length })
  })()
  await card.insert()
  send({ ready: true })
  process.on('message', (m: { log?: boolean; resetLog?: boolean; exit?: boolean }) => {
    // after the warm-up transfer: only the timed one is replayed (the card is already selected)
    if (m.resetLog) {
      log.length = 0
      send({ reset: true })
    }
    if (m.log) send({ log })
    if (m.exit) {
      card.remove()
      process.exit(0)
    }
  })
} else {
  let sizes: number[] = []
  let i = 0
  const responder: ApduResponder = {
    process: () => encodeResponse(new Uint8Array(Math.max(0, (sizes[i++ % sizes.length] ?? 2) - 2)), 0x9000),
  }
  const card = new VpcdCard(responder, { port })
  process.on('message', async (m: { sizes?: number[]; exit?: boolean }) => {
    if (m.sizes) {
      sizes = m.sizes
      await card.insert()
      send({ ready: true })
    }
    if (m.exit) {
      card.remove()
      process.exit(0)
    }
  })
}
