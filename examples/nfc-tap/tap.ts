/**
 * The two sides of an NFC tap, as a library user writes them: the phone is the card (host card
 * emulation: CardApplet is a pure C-APDU → R-APDU function), the PC/SC reader is the master.
 */

import { CardApplet } from '../../adapters/nfc/card.js'
import { PcscReader } from '../../adapters/nfc/index.js'
import { createTransport } from '../../src/index.js'

/** The phone side: answers every message with a receipt naming its size. In an HCE service,
 * `processCommandApdu(apdu)` returns `applet.process(apdu)`; here a VpcdCard plays the radio. */
export function phoneApplet(log: (l: string) => void): CardApplet {
  const applet = new CardApplet()
  const transport = createTransport(applet, {
    onMessage: async (m) => {
      log(`phone: received ${m.data.length} bytes (${m.mediaType})`)
      // answered after the handler: the receipt goes out in the answers to the reader's next polls
      setTimeout(() => void transport.send(JSON.stringify({ receipt: m.data.length })).catch(() => {}), 0)
    },
  })
  return applet
}

/**
 * The reader side: waits for a tap, sends the envelope, waits for the phone's answer. A reader is
 * looked for for 10 s and a tap for 60 s (someone plugging a reader, tapping a phone); `waitMs`
 * replaces both — Infinity waits for the events themselves (a virtual reader and card known to be there).
 */
export async function tapAndSend(
  envelope: string,
  o: { reader?: string; log: (l: string) => void; waitMs?: number },
): Promise<string> {
  const reader = await PcscReader.open({ name: o.reader, timeoutMs: o.waitMs ?? 10_000 })
  try {
    o.log(`reader: tap a phone on ${reader.name}`)
    await reader.waitForCard(o.waitMs ?? 60_000)
    const transport = createTransport(reader.link({ pollMs: 10 }))
    const answer = (async () => {
      for await (const r of transport.receive()) return new TextDecoder().decode(r.data)
      return ''
    })()
    const report = await transport.send(envelope)
    o.log(`reader: ${report.envelopeBytes} bytes delivered in ${report.durationMs} ms, receipt confirmed: ${report.confirmed}`)
    const got = await answer
    await new Promise((r) => setTimeout(r, 100)) // our receipt of the answer rides the next exchange
    await transport.close()
    return got
  } finally {
    await reader.close()
  }
}
