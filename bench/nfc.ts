import { type ApduResponder, CardApplet, encodeResponse, PcscReader, VpcdCard } from '../adapters/nfc/index.js'
import { createTransport } from '../src/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { havePcscd, Pcscd } from '../test/support/pcscd.js'
import { emit, median } from './lib.js'

/** Answers as another responder would, logging every exchange's sizes. */
class Recorder implements ApduResponder {
  readonly log: { command: number; response: number }[] = []
  constructor(private readonly inner: ApduResponder) {}
  process(capdu: Uint8Array): Uint8Array {
    const r = this.inner.process(capdu)
    this.log.push({ command: capdu.length, response: r.length })
    return r
  }
}

/** The raw baseline card: answers the i-th APDU with a response of the recorded size, no processing. */
class Replay implements ApduResponder {
  private i = 0
  constructor(private readonly sizes: number[]) {}
  process(): Uint8Array {
    const n = this.sizes[this.i++ % this.sizes.length] as number
    return encodeResponse(new Uint8Array(Math.max(0, n - 2)), 0x9000)
  }
}

/**
 * NFC goodput with short APDUs through pcscd + vpcd (TCP_NODELAY shim) and nfc-pcsc: a 64 KB
 * message reader → card, against a raw loop that sends APDUs of exactly the sizes our transfer used
 * (polls and acknowledgements included) to a card that answers each at once with the recorded size.
 */
const REPS = 7

export async function nfcBench(): Promise<void> {
  if (!havePcscd()) return
  const pcscd = await Pcscd.start()
  const reader = await PcscReader.open({ name: 'Virtual PCD 00 00', timeoutMs: 10_000 })
  try {
    const data = seededBytes(64 * 1024, 21)
    const ours: number[] = []
    const raw: number[] = []
    for (let rep = 0; rep < REPS; rep++) {
      const applet = new CardApplet({ mtu: 4096 })
      const rec = new Recorder(applet)
      const card = new VpcdCard(rec, { port: pcscd.vpcdPort })
      await card.insert()
      await reader.waitForCard(5000)
      const atReader = createTransport(reader.link({ mtu: 4096, pollMs: 5 }))
      const atCard = createTransport(applet)
      const got = (async () => {
        for await (const r of atCard.receive()) return r
      })()
      const t0 = performance.now()
      await atReader.send(data)
      await got
      ours.push(performance.now() - t0)
      await atReader.close()
      await atCard.close()
      const log = rec.log.slice(1) // after the SELECT
      let off = new Promise((r) => reader.once('card.off', r))
      card.remove()
      await off

      const replay = new VpcdCard(new Replay(log.map((e) => e.response)), { port: pcscd.vpcdPort })
      await replay.insert()
      await reader.waitForCard(5000)
      const commands = log.map((e) => new Uint8Array(e.command))
      const t1 = performance.now()
      for (const c of commands) await reader.transmit(c)
      raw.push(performance.now() - t1)
      off = new Promise((r) => reader.once('card.off', r))
      replay.remove()
      await off
      if (rep === 0) console.error(`nfc: ${log.length} APDUs for 64 KB with short APDUs`)
    }
    const mbps = (ms: number) => data.length / 1e6 / (ms / 1000)
    emit({
      name: 'nfc.goodput.64KB.short-apdus',
      value: mbps(median(ours)),
      unit: 'MB/s',
      baseline: { name: 'raw APDU loop of the same sizes, same pcscd + vpcd + nfc-pcsc', value: mbps(median(raw)) },
      params: { reps: REPS, msOurs: ours.map(Math.round), msRaw: raw.map(Math.round) },
    })
  } finally {
    await reader.close()
    await pcscd.stop()
  }
}
