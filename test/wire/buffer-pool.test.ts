import { describe, expect, it } from 'vitest'
import { createTransport, type Link, type Received } from '../../src/index.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import { BufferPool } from '../../src/wire/buffer-pool.js'
import { isDataFrame } from '../../src/wire/frame.js'
import { until } from '../support/until.js'

const fast = { initialRtoMs: 30, minRtoMs: 10, ackDelayMs: 2, transferTimeoutMs: 4000, windowBytes: 256 * 1024 }
const BYTES = { compress: false, mediaType: 'application/octet-stream' } as const

describe('buffers lent and taken back (src/wire/buffer-pool.ts)', () => {
  it('lends a buffer to one borrower at a time, and only takes back its own', () => {
    const pool = new BufferPool(2, 100)
    const a = pool.take(1000)
    pool.giveBack(a.subarray(10, 20)) // any view of it
    expect(pool.size).toBe(1)
    pool.giveBack(a) // a second time: not lent any more
    expect(pool.size).toBe(1)
    const b = pool.take(1000)
    expect(b).toBe(a)
    expect(pool.take(1000)).not.toBe(a) // a is lent: a fresh one
    pool.giveBack(new Uint8Array(1000)) // not the pool's
    expect(pool.size).toBe(0)
    // small ones are never pooled
    const small = pool.take(50)
    pool.giveBack(small)
    expect(pool.size).toBe(0)
    // at most `keep` free, the oldest dropped; sizes are matched exactly
    const [x, y, z] = [pool.take(200), pool.take(300), pool.take(400)]
    for (const v of [x, y, z]) pool.giveBack(v)
    expect(pool.size).toBe(2)
    expect(pool.take(200)).not.toBe(x)
    expect(pool.take(400)).toBe(z)
  })

  it('a reassembly buffer its handler released carries the next message, byte-exact; one not released is never reused', async () => {
    const pair = memoryLinkPair()
    const got: { data: Uint8Array; buffer: ArrayBufferLike }[] = []
    let releasing = true
    const onMessage = async (r: Received) => {
      got.push({ data: r.data.slice(), buffer: r.data.buffer })
      if (releasing) r.release?.()
    }
    const b = createTransport(pair.b, { ...fast, onMessage })
    const a = createTransport(pair.a, fast)
    const messages = [1, 2, 3, 4, 5, 6].map((seed) => seededBytes(200_000, seed))
    for (const [i, m] of messages.entries()) {
      if (i === 3) releasing = false
      await a.send(m, BYTES)
      await until(() => got.length === i + 1)
    }
    for (const [i, g] of got.entries()) expect(Buffer.compare(g.data, messages[i] as Uint8Array)).toBe(0)
    // released: 1–3 and the 4th (held by nobody once 3 was released) share one buffer…
    expect(new Set(got.slice(0, 4).map((g) => g.buffer)).size).toBe(1)
    // …not released from the 4th on: each a buffer of its own
    expect(new Set(got.slice(3).map((g) => g.buffer)).size).toBe(3)
    await a.close()
    await b.close()
  })

  it('writes DATA frames into the buffers a link lends (Link.frameBuffer)', async () => {
    const pair = memoryLinkPair()
    const lent = new Set<Uint8Array>()
    const sentData: Uint8Array[] = []
    const lending: Link = {
      mtu: pair.a.mtu,
      duplex: true,
      frameBuffer: (n) => {
        const buf = new Uint8Array(n)
        lent.add(buf)
        return buf
      },
      send: (f, signal) => {
        if (isDataFrame(f)) sentData.push(f)
        return pair.a.send(f, signal)
      },
      onFrame: (h) => pair.a.onFrame(h),
      close: () => pair.a.close(),
    }
    const got: Uint8Array[] = []
    const b = createTransport(pair.b, { ...fast, onMessage: (r) => void got.push(r.data.slice()) })
    const a = createTransport(lending, fast)
    const m = seededBytes(50_000, 9)
    await a.send(m, BYTES)
    await until(() => got.length === 1)
    expect(Buffer.compare(got[0] as Uint8Array, m)).toBe(0)
    expect(sentData.length).toBeGreaterThan(1)
    for (const f of sentData) expect(lent.has(f)).toBe(true)
    await a.close()
    await b.close()
  })
})
