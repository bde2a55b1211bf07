import {
  BleCentralLink,
  BlePeripheralLink,
  bleEndpointTransport,
  CARRIER_PROFILE,
  type GattLink,
  makeBleEndpoint,
} from '../adapters/ble/index.js'
import { createTransport } from '../src/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { Btvirt, haveBtvirt } from '../test/support/btvirt.js'
import { fileVsMessage } from './file-goodput.js'
import { emit, median } from './lib.js'

const REPS = 5
const MTUS = [23, 185, 247, 517]

/** Raw ATT: `bytes` as back-to-back packets of the link's payload size, timed until all arrived. */
async function rawLoop(from: GattLink, to: GattLink, bytes: number): Promise<number> {
  const packet = new Uint8Array(from.mtu).fill(0x5a)
  let got = 0
  const all = new Promise<void>((resolve) => {
    const off = to.onFrame((f) => {
      got += f.length
      if (got >= bytes) {
        off()
        resolve()
      }
    })
  })
  const t0 = performance.now()
  for (let sent = 0; sent < bytes; sent += packet.length) await from.send(packet)
  await all
  return performance.now() - t0
}

/** The same bytes as one message through the core (reliable session, acks, digest), until confirmed. */
async function carrier(from: GattLink, to: GattLink, data: Uint8Array): Promise<number> {
  const a = createTransport(from, { closeLink: false })
  const b = createTransport(to, { closeLink: false })
  try {
    const inbox = b.receive()[Symbol.asyncIterator]()
    const t0 = performance.now()
    const report = await a.send(data, { compress: false })
    const ms = performance.now() - t0
    const got = await inbox.next()
    if (!report.confirmed || got.value?.data.length !== data.length) throw new Error('transfer not confirmed')
    return ms
  } finally {
    await a.close()
    await b.close()
  }
}

/**
 * BLE goodput through noble/bleno on BlueZ's emulated controllers (no radio timing: this measures
 * the stacks and our protocol, not the air), per ATT MTU and direction, against the raw ATT loop of
 * the same stacks over the same connection in the same run.
 */
export async function bleBench(): Promise<void> {
  if (!haveBtvirt()) return
  const bt = await Btvirt.start()
  try {
    await bleFileBench(bt)
    for (const mtu of MTUS) {
      const peripheral = await BlePeripheralLink.start({ hci: bt.hci, token: `b${mtu}`, maxMtu: mtu })
      const central = await BleCentralLink.connect({ hci: bt.hci, token: `b${mtu}`, mtu })
      await peripheral.waitUp()
      if (central.negotiatedMtu !== mtu) throw new Error(`asked for MTU ${mtu}, got ${central.negotiatedMtu}`)
      const bytes = mtu === 23 ? 256 * 1024 : 2 * 1024 * 1024
      const data = seededBytes(bytes, mtu)
      for (const [dir, from, to] of [
        ['write', central, peripheral],
        ['notify', peripheral, central],
      ] as const) {
        const ours: number[] = []
        const raw: number[] = []
        // one unrecorded round first (JIT, buffers), then both interleaved: the emulator's speed drifts
        for (let rep = -1; rep < REPS; rep++) {
          const r = await rawLoop(from, to, bytes)
          const o = await carrier(from, to, data)
          if (rep < 0) continue
          raw.push(r)
          ours.push(o)
        }
        const kbps = (ms: number) => bytes / 1024 / (ms / 1000)
        emit({
          name: `ble.goodput.mtu${mtu}.${dir}`,
          value: kbps(median(ours)),
          unit: 'KiB/s',
          baseline: {
            name: `raw ATT ${dir === 'write' ? 'write-without-response' : 'notification'} loop of ${mtu - 3}-byte packets, same stacks and connection`,
            value: kbps(median(raw)),
          },
          params: { bytes, reps: REPS, msOurs: ours.map(Math.round), msRaw: raw.map(Math.round) },
        })
      }
      await central.close()
      await peripheral.close()
    }
  } finally {
    await bt.stop()
  }
}

/**
 * A file (512 KiB) with `sendFile` against one message with the same bytes attached, between two
 * agents over one BLE connection (the endpoint transports' defaults: the central asks for ATT MTU
 * 517), the receiver a peripheral at a ble:// endpoint, the sender a central with no endpoint. Two
 * lines: sendFile's default chunk (512 KiB: the whole file in one wire transfer), and 64 KiB chunks
 * of 16 KiB segments, what docs/FILES.md advises over a real radio (a chunk must cross within the
 * 20 s chunk time-out), pipelined by sendFile's window.
 */
export async function bleFileBench(bt: Btvirt, reps = 7, bytes = 512 * 1024): Promise<void> {
  const token = 'benchfile'
  const name = `ble.file-goodput.${bytes / 1024}KiB`
  await fileVsMessage({
    link: 'BLE connection (btvirt)',
    receiver: await bleEndpointTransport({ hci: bt.hci, listen: { token } }),
    uri: makeBleEndpoint({ service: CARRIER_PROFILE.service, token }),
    sender: await bleEndpointTransport({ hci: bt.hci }),
    bytes,
    reps,
    files: [{ name }, { name: `${name}.64KiB-chunks`, partBytes: 64 * 1024, segmentBytes: 16 * 1024 }],
  })
}
