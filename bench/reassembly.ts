import { createTransport, type Link } from '../src/index.js'
import { memoryLinkPair } from '../src/testing/memory-link.js'
import { seededBytes } from '../src/testing/prng.js'
import { isDataFrame } from '../src/wire/frame.js'
import { segmentPlan } from '../src/wire/reliable/window.js'
import { emit, median } from './lib.js'

/** A link that replays recorded frames into a receiver and discards what it answers. */
class ReplayLink implements Link {
  readonly duplex = true
  handler: (f: Uint8Array) => void = () => {}
  constructor(readonly mtu: number) {}
  async send(): Promise<void> {}
  onFrame(h: (f: Uint8Array) => void) {
    this.handler = h
    return () => {}
  }
  async close(): Promise<void> {}
}

async function record(mtu: number, data: Uint8Array): Promise<Uint8Array[]> {
  const pair = memoryLinkPair({ mtu, capacity: 4096 })
  const frames: Uint8Array[] = []
  pair.b.onFrame((f) => frames.push(f))
  const a = createTransport(pair.a)
  const b = createTransport(pair.b)
  await a.send(data, { compress: false })
  await a.close()
  await b.close()
  return frames
}

/**
 * Recorded frames (START + DATA) fed to a fresh receiver. Two figures against one baseline:
 * - reassembly: until the last frame is in place — CRC of every frame, sequence resolution,
 *   placement, gap bookkeeping, reports;
 * - delivery: until the message is delivered — the above plus the SHA-256 of the whole message
 *   checked against the sender's (SHA-256 runs at ~1.2 GB/s here, a quarter of memcpy, which bounds
 *   this figure on one core).
 * Baseline: copying the same frames' payloads into one buffer, nothing else.
 */
const RUNS = 9

export async function reassemblyBench(): Promise<void> {
  for (const mtu of [20, 182, 514, 65536]) {
    const size = mtu < 200 ? 2 * 1024 * 1024 : 16 * 1024 * 1024
    const data = seededBytes(size, mtu)
    const frames = await record(mtu, data)
    const { compact } = segmentPlan(mtu)
    const head = compact ? 2 : 3
    const check = compact ? 1 : 4
    const ours: number[] = []
    const assembled: number[] = []
    const plain: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const link = new ReplayLink(mtu)
      const t = createTransport(link, { maxMessageBytes: 64 * 1024 * 1024 })
      const it = t.receive()[Symbol.asyncIterator]()
      const t0 = performance.now()
      for (const f of frames) link.handler(f)
      assembled.push(performance.now() - t0)
      const got = await it.next()
      ours.push(performance.now() - t0)
      if (got.value?.data.length !== size) throw new Error('replay did not deliver the message')
      await t.close()

      const t1 = performance.now()
      const out = new Uint8Array(size + 64)
      let off = 0
      for (const f of frames) {
        if (!isDataFrame(f)) continue
        const p = f.subarray(head, f.length - check)
        out.set(p, off)
        off += p.length
      }
      plain.push(performance.now() - t1)
    }
    const mbps = (ms: number) => size / 1e6 / (ms / 1000)
    for (const [name, times] of [
      ['reassembly', assembled],
      ['delivery', ours],
    ] as const) {
      emit({
        name: `${name}.throughput.frame${mtu}`,
        value: mbps(median(times)),
        unit: 'MB/s',
        baseline: { name: 'plain copy of the same frame payloads', value: mbps(median(plain)) },
        params: { messageBytes: size, frames: frames.length, runs: RUNS },
      })
    }
  }
}
