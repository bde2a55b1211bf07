import { type ChildProcess, fork } from 'node:child_process'
import { nfcEndpointTransport, PcscReader, VpcdCardThread } from '../adapters/nfc/index.js'
import { createTransport } from '../src/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { havePcscd, Pcscd } from '../test/support/pcscd.js'
import { fileVsMessage } from './file-goodput.js'
import { emit, median } from './lib.js'

const REPS = 7

function card(mode: 'applet' | 'replay', port: number): ChildProcess {
  return fork(new URL('./nfc-card.ts', import.meta.url).pathname, [mode, String(port)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

function next<T>(p: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        p.off('message', on)
        resolve(m[key] as T)
      }
    }
    p.on('message', on)
  })
}

async function exit(p: ChildProcess, reader: PcscReader): Promise<void> {
  const off = new Promise((r) => reader.once('card.off', r))
  p.send({ exit: true })
  await off
}

/**
 * NFC goodput with short APDUs through pcscd + vpcd (TCP_NODELAY shim) and nfc-pcsc, the card in
 * its own process (as a phone is its own device): a 256 KB message reader → card, against a raw loop
 * that sends APDUs of exactly the sizes our transfer used (polls and acknowledgements included) to
 * a card process that answers each at once with the recorded response size. Each card process is
 * warmed up by an untimed 64 KB transfer first (a phone's app is running before the tap).
 */
export async function nfcBench(): Promise<void> {
  if (!havePcscd()) return
  const pcscd = await Pcscd.start()
  const reader = await PcscReader.open({ name: 'Virtual PCD 00 00', timeoutMs: 10_000 })
  try {
    const data = seededBytes(256 * 1024, 21)
    const warmUp = seededBytes(64 * 1024, 22)
    const ours: number[] = []
    const raw: number[] = []
    let apdus = 0
    for (let rep = 0; rep < REPS; rep++) {
      const a = card('applet', pcscd.vpcdPort)
      await next(a, 'ready')
      await reader.waitForCard(5000)
      const atReader = createTransport(reader.link({ mtu: 4096, pollMs: 5 }))
      const warmed = next<number>(a, 'received')
      await atReader.send(warmUp)
      if ((await warmed) !== warmUp.length) throw new Error('the card received a different length')
      const reset = next(a, 'reset')
      a.send({ resetLog: true })
      await reset
      const received = next<number>(a, 'received')
      const t0 = performance.now()
      await atReader.send(data)
      if ((await received) !== data.length) throw new Error('the card received a different length')
      ours.push(performance.now() - t0)
      await atReader.close()
      a.send({ log: true })
      const log = await next<{ command: number; response: number }[]>(a, 'log')
      apdus = log.length
      await exit(a, reader)

      const r = card('replay', pcscd.vpcdPort)
      r.send({ sizes: log.map((e) => e.response) })
      await next(r, 'ready')
      await reader.waitForCard(5000)
      const commands = log.map((e) => new Uint8Array(e.command))
      const t1 = performance.now()
      for (const c of commands) await reader.transmit(c)
      raw.push(performance.now() - t1)
      await exit(r, reader)
    }
    const mbps = (ms: number) => data.length / 1e6 / (ms / 1000)
    emit({
      name: 'nfc.goodput.256KB.short-apdus',
      value: mbps(median(ours)),
      unit: 'MB/s',
      baseline: { name: 'raw APDU loop of the same sizes, same pcscd + vpcd + nfc-pcsc', value: mbps(median(raw)) },
      params: { reps: REPS, apdus, msOurs: ours.map(Math.round), msRaw: raw.map(Math.round) },
    })
    await nfcFileBench(pcscd, reader)
  } finally {
    await reader.close()
    await pcscd.stop()
  }
}

/**
 * A file (256 KiB) with `sendFile` against one message with the same bytes attached, between two
 * agents over one tap: the phone (the card's applet on a worker thread, VpcdCardThread, with no
 * endpoint) sends to the kiosk at the reader (an `nfc:` endpoint, short APDUs as above), which
 * answers over the same tap. Two lines: sendFile's default chunk (512 KiB: the whole file in one
 * wire transfer), and 16 KiB chunks of 16 KiB segments, what docs/FILES.md advises for a tap (a
 * chunk must cross while the phone stays on the reader), pipelined by sendFile's window.
 */
export async function nfcFileBench(pcscd: Pcscd, reader: PcscReader, reps = 9, bytes = 256 * 1024): Promise<void> {
  const card = VpcdCardThread.start({ port: pcscd.vpcdPort })
  const name = `nfc.file-goodput.${bytes / 1024}KiB.short-apdus`
  try {
    await card.insert()
    await reader.waitForCard(5000)
    await fileVsMessage({
      link: 'tap (pcscd + vpcd, short APDUs)',
      receiver: nfcEndpointTransport(reader.link({ mtu: 4096, pollMs: 5 })),
      uri: 'nfc:',
      sender: nfcEndpointTransport(card.link),
      bytes,
      reps,
      files: [{ name }, { name: `${name}.16KiB-chunks`, partBytes: 16 * 1024, segmentBytes: 16 * 1024 }],
    })
  } finally {
    await card.close()
  }
}
