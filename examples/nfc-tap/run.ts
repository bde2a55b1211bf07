/**
 * npx tsx examples/nfc-tap/run.ts — an NFC tap without hardware: pcscd with the vpcd virtual reader
 * (apt-get install pcscd vsmartcard-vpcd gcc; no other pcscd running), our VpcdCard playing the
 * phone. With a real reader and phone, use tap.ts's two halves instead (README).
 */
import { VpcdCard } from '../../adapters/nfc/index.js'
import { Pcscd } from '../../test/support/pcscd.js'
import { phoneApplet, tapAndSend } from './tap.js'

const pcscd = await Pcscd.start()
const card = new VpcdCard(phoneApplet(console.log), { port: pcscd.vpcdPort })
try {
  const envelope = JSON.stringify({ protected: 'eyJ0eXAiOiJKV00ifQ', ciphertext: 'c'.repeat(10_000) })
  // the virtual reader is in the reader.conf of the pcscd just started, and the card enters below:
  // wait for them by their events (a clock would only measure the machine's load)
  const tapped = tapAndSend(envelope, { reader: 'Virtual PCD', log: console.log, waitMs: Number.POSITIVE_INFINITY })
  await new Promise((r) => setTimeout(r, 500))
  await card.insert()
  console.log(`reader: the phone answered ${await tapped}`)
} finally {
  card.remove()
  await pcscd.stop()
}
