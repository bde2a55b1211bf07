/**
 * npm run demo — a DIDComm-sized JWE crosses Bluetooth LE (noble central ↔ bleno peripheral on
 * BlueZ's emulated controllers when btvirt is installed, else an in-memory link shaped like BLE), NFC
 * (nfc-pcsc through pcscd's virtual reader to our card applet, when pcscd and vpcd are installed) and
 * real QR codes (rendered, PNG, decoded, some never seen), then two agents with did:peer:2
 * identities exchange an authcrypt message with a 1 MB file through a real MQTT broker (embedded
 * aedes); the table says what each cost.
 */
import cliProgress from 'cli-progress'
import { BleCentralLink, BlePeripheralLink } from '../adapters/ble/index.js'
import { makeMqttEndpoint, mqttEndpointTransport, newInboxKey, startEmbeddedBroker } from '../adapters/mqtt/index.js'
import { CardApplet, PcscReader, VpcdCard } from '../adapters/nfc/index.js'
import { decodePng, encodePng, modulesToImage, QrCameraLink, QrDisplayLink } from '../adapters/qr/index.js'
import { loopback } from '../cli/loopback.js'
import {
  createAgent,
  createPeerDid,
  createTransport,
  didPeerResolver,
  receivedFiles,
  type SendReport,
  type Transport,
} from '../src/index.js'
import { seededBytes, seededRandom } from '../src/testing/prng.js'
import { Btvirt, btvirtAvailable } from '../test/support/btvirt.js'
import { PCSCD_HOW_TO, Pcscd, pcscdInstalled } from '../test/support/pcscd.js'
import { isCI } from '../test/support/prerequisites.js'

function fakeJwe(bytes: number): Uint8Array {
  const b64 = Buffer.from(seededBytes(Math.floor((bytes * 3) / 4), 2026)).toString('base64url')
  return new TextEncoder().encode(
    JSON.stringify({
      protected: 'eyJ0eXAiOiJhcHBsaWNhdGlvbi9kaWRjb21tLWVuY3J5cHRlZCtqc29uIiwiYWxnIjoiRUNESC0xUFUrQTI1NktXIn0',
      recipients: [{ header: { kid: 'did:peer:2.Ez6LS...#key-2' }, encrypted_key: 'x'.repeat(43) }],
      iv: 'a'.repeat(22),
      ciphertext: b64,
      tag: 'b'.repeat(22),
    }),
  )
}

const rows: string[][] = []
const notes: string[] = []

/** One row of the table; an envelope that did not arrive byte-exact fails the demo. */
function addRow(r: { name: string; bytes: number; frames: string; seconds: number; compressedTo: string; exact: boolean }) {
  rows.push([
    r.name,
    String(r.bytes),
    r.frames,
    r.seconds.toFixed(2),
    (r.bytes / 1024 / r.seconds).toFixed(0),
    r.compressedTo,
    r.exact ? 'yes' : 'NO',
  ])
  if (!r.exact) process.exitCode = 1
}

const compressedTo = (report: SendReport | undefined) => (!report ? 'n/a' : report.compressed ? String(report.streamBytes) : '-')
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) =>
  a !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

/** A row for an envelope sent from one end to the other, timed until delivered, checked byte for byte. */
async function transferRow(name: string, from: Transport, to: Transport, envelope: Uint8Array) {
  const inbox = to.receive()[Symbol.asyncIterator]()
  const started = performance.now()
  const report = await from.send(envelope)
  const got = await inbox.next()
  addRow({
    name,
    bytes: envelope.length,
    frames: String(report.frames),
    seconds: (performance.now() - started) / 1000,
    compressedTo: compressedTo(report),
    exact: sameBytes(got.value?.data, envelope),
  })
}

if (btvirtAvailable()) {
  // BLE for real: both stacks on emulated controllers of one btvirt radio, ATT MTU 517
  const bt = await Btvirt.start()
  const envelope = fakeJwe(256 * 1024)
  const peripheral = await BlePeripheralLink.start({ hci: bt.hci, token: 'demo' })
  const central = await BleCentralLink.connect({ hci: bt.hci, token: 'demo' })
  await peripheral.waitUp()
  const a = createTransport(central)
  const b = createTransport(peripheral)
  await transferRow(`BLE GATT (emulated, ATT MTU ${central.negotiatedMtu})`, a, b, envelope)
  await a.close()
  await b.close()
  await bt.stop()
  notes.push('BLE ran on BlueZ emulated controllers: no radio timing (a real link does ~50–100 KB/s).')
} else {
  const run = { name: 'BLE-like (memory, MTU 182, 5 % loss)', mtu: 182, loss: 0.05, simplex: false, bytes: 256 * 1024 }
  const envelope = fakeJwe(run.bytes)
  const bar = new cliProgress.SingleBar(
    { format: `${run.name.padEnd(40)} {bar} {percentage}%`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000 },
    cliProgress.Presets.shades_classic,
  )
  bar.start(1, 0)
  const r = await loopback(envelope, { ...run, seed: 7, onProgress: (done, total) => bar.update(done / total) })
  bar.update(1)
  bar.stop()
  addRow({
    name: run.name,
    bytes: envelope.length,
    frames: String(r.frames),
    seconds: r.seconds,
    compressedTo: compressedTo(r.report),
    exact: sameBytes(r.received.data, envelope),
  })
  notes.push(
    'BLE ran over a memory link: for real Bluetooth stacks on emulated controllers, apt-get install bluez-test-tools gcc.',
  )
}

// QR for real: every frame rendered as a v25-L code, written as PNG, read back and decoded by
// @zxing/library; 20 % of the codes are never seen (the camera looked away)
{
  const envelope = fakeJwe(100 * 1024)
  const rnd = seededRandom(20)
  const camera = new QrCameraLink()
  const ac = new AbortController()
  // the scanner knows the moment it has K independent symbols: the sender can stop there
  const receiver = createTransport(camera, { onProgress: (p) => p.received === p.total && ac.abort() })
  let shown = 0
  const display = new QrDisplayLink({
    version: 25,
    show: async (code) => {
      shown++
      if (rnd() >= 0.2) await camera.feed(decodePng(encodePng(modulesToImage(code, { scale: 2 }))))
    },
  })
  const it = receiver.receive()[Symbol.asyncIterator]()
  const started = performance.now()
  const sending = createTransport(display)
    .send(envelope, { signal: ac.signal })
    .catch(() => undefined)
  const got = await it.next()
  ac.abort()
  await sending
  const seconds = (performance.now() - started) / 1000
  addRow({
    name: 'QR (v25-L PNG codes, 20 % unseen)',
    bytes: envelope.length,
    frames: `${camera.decoded}/${shown}`,
    seconds,
    compressedTo: 'deflated',
    exact: sameBytes(got.value?.data, envelope),
  })
  await receiver.close()
}

// NFC for real where pcscd and vpcd are installed: nfc-pcsc on pcscd's virtual reader sends to
// our card applet (what the phone runs) in its field, in extended APDUs
if (pcscdInstalled()) {
  let pcscd: Pcscd | undefined
  try {
    pcscd = await Pcscd.start({ lockTimeoutMs: 60_000 })
  } catch (err) {
    notes.push(`NFC did not run: ${(err as Error).message}`)
    if (isCI()) process.exitCode = 1
  }
  if (pcscd) {
    const envelope = fakeJwe(64 * 1024)
    const applet = new CardApplet({ maxCommandData: 4096, maxResponseData: 4096, mtu: 8192 })
    const card = new VpcdCard(applet, { port: pcscd.vpcdPort })
    const reader = await PcscReader.open({ name: 'Virtual PCD 00 00', timeoutMs: 10_000 })
    try {
      await card.insert()
      await reader.waitForCard(10_000)
      const atReader = createTransport(reader.link({ extended: true, mtu: 8192, pollMs: 5 }))
      const atCard = createTransport(applet)
      await transferRow('NFC (PC/SC, vpcd reader, extended APDUs)', atReader, atCard, envelope)
      await atReader.close()
      await atCard.close()
      notes.push('NFC ran through pcscd with the vpcd virtual reader: no radio (a phone on a real reader does ~10–40 KB/s).')
    } finally {
      card.remove()
      await reader.close()
      await pcscd.stop()
    }
  }
} else {
  notes.push(`NFC did not run: pcscd and the vpcd virtual reader are missing (${PCSCD_HOW_TO}).`)
  if (isCI()) process.exitCode = 1
}

// MQTT for real: two agents with did:peer:2 identities on the embedded broker (aedes); Alice sends
// Bob an authcrypt message carrying a 1 MB file, found from Bob's DID document alone
{
  const broker = await startEmbeddedBroker({ port: 0, maxPacketBytes: 256 * 1024 })
  const agent = async (name: string) => {
    const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const identity = createPeerDid({ service: { uri: endpoint } })
    return createAgent({
      identity,
      resolver: didPeerResolver,
      transports: [await mqttEndpointTransport({ endpoint, clientId: `demo-${name}` })],
    })
  }
  const alice = await agent('alice')
  const bob = await agent('bob')
  const inbox = bob.messages()[Symbol.asyncIterator]()
  const file = seededBytes(1024 * 1024, 2026)
  const started = performance.now()
  const sent = await alice.sendFile(file, { to: bob.did, filename: 'demo.bin' })
  const got = (await inbox.next()).value
  const seconds = (performance.now() - started) / 1000
  const [received] = receivedFiles(got?.message ?? { id: '', type: '' })
  addRow({
    name: 'MQTT agents (authcrypt + 1 MB file, aedes)',
    bytes: sent.packed.packed.length,
    frames: String(sent.report.frames),
    seconds,
    compressedTo: compressedTo(sent.report),
    exact: sameBytes(received?.bytes, file) && got?.metadata.authenticated === true,
  })
  await alice.close()
  await bob.close()
  await broker.close()
}

const head = ['transport', 'envelope bytes', 'frames', 'seconds', 'KB/s', 'compressed to', 'byte-exact']
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ')
console.log()
console.log(line(head))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
for (const r of rows) console.log(line(r))
console.log('\nframes: BLE counts the frames the sender wrote (a memory link: both directions); QR shows codes decoded /')
console.log('codes shown until the receiver could decode (fountain coding); MQTT counts the frames the sender published,')
console.log('and its envelope is the DIDComm JWE (the file base64 inside), deflated on the wire.')
for (const n of notes) console.log(n)
console.log('By hand: carrier ble peripheral|central, carrier nfc card|reader, carrier qr encode|decode, carrier send|listen.')
