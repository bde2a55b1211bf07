import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type CarrierError, createTransport, type Link, type Received } from '../../src/index.js'
import { type MemoryLinkPair, memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import {
  decodeControl,
  encodeStart,
  encodeSymbol,
  FLAG_INTACT,
  isDataFrame,
  T_DONE,
  T_REJECT,
  T_START,
} from '../../src/wire/frame.js'
import { xxh64 } from '../../src/wire/xxh64.js'
import { until } from '../support/until.js'

/** One of DIDComm's media types: a byte code, no media-type string in the stream. */
const JWE = { compress: false, mediaType: 'application/didcomm-encrypted+json' }
const fast = { initialRtoMs: 30, minRtoMs: 10, ackDelayMs: 2, transferTimeoutMs: 4000, windowBytes: 256 * 1024 }

/** The same link with `intact` set as given, and every frame it sends passed through `tap`. */
function declared(link: Link, intact: boolean, tap: (f: Uint8Array) => Uint8Array = (f) => f): Link {
  return {
    mtu: link.mtu,
    duplex: link.duplex,
    intact,
    send: (f, signal) => link.send(tap(f), signal),
    onFrame: (h) => link.onFrame(h),
    close: () => link.close(),
  }
}

/** Sends `data` from a to b and returns what crossed: the report, START's flags, DONE's digest. */
async function roundTrip(pair: MemoryLinkPair, data: Uint8Array) {
  const forth: Uint8Array[] = []
  const back: Uint8Array[] = []
  pair.b.onFrame((f) => forth.push(f.slice()))
  pair.a.onFrame((f) => back.push(f.slice()))
  const a = createTransport(pair.a, fast)
  const b = createTransport(pair.b, fast)
  try {
    const got = firstMessage(b)
    const report = await a.send(data, JWE)
    expect((await got).data).toEqual(data)
    const start = forth.map(decodeControl).find((c) => c?.type === T_START)
    const done = back.map(decodeControl).find((c) => c?.type === T_DONE)
    return {
      report,
      start: start?.type === T_START ? start : undefined,
      doneDigest: done?.type === T_DONE ? [...done.digest] : undefined,
      dataFrames: forth.filter(isDataFrame).length,
    }
  } finally {
    await a.close()
    await b.close()
  }
}

async function firstMessage(t: ReturnType<typeof createTransport>): Promise<Received> {
  for await (const r of t.receive()) return r
  throw new Error('receiver closed')
}

describe('intact links (Link.intact: TCP/TLS underneath)', () => {
  it('flag the transfer, check DATA headers only and end the stream with XXH64', async () => {
    const data = seededBytes(300_000, 41)
    const t = await roundTrip(memoryLinkPair({ mtu: 4096, intact: true }), data)
    // the stream is the envelope and an 8-byte XXH64, and DONE echoes that digest
    expect(t.report.streamBytes).toBe(data.length + 8)
    expect((t.start?.flags ?? 0) & FLAG_INTACT).toBe(FLAG_INTACT)
    expect(t.doneDigest).toEqual([...xxh64(data)])
    expect(t.dataFrames).toBeGreaterThan(70)
  })

  it('keeps CRC-32 over the payload and SHA-256 on links that do not declare it', async () => {
    const data = seededBytes(50_000, 42)
    const t = await roundTrip(memoryLinkPair({ mtu: 4096 }), data)
    expect(t.report.streamBytes).toBe(data.length + 32)
    expect((t.start?.flags ?? 0) & FLAG_INTACT).toBe(0)
    expect(t.doneDigest).toEqual([...createHash('sha256').update(data).digest()])
  })

  it('refuses an intact START too short to hold its 8-byte digest (REJECT 4, nothing held)', async () => {
    const pair = memoryLinkPair({ mtu: 4096, intact: true })
    const drops: CarrierError[] = []
    const b = createTransport(pair.b, { ...fast, onDrop: (e) => drops.push(e) })
    const replies: ReturnType<typeof decodeControl>[] = []
    pair.a.onFrame((f) => replies.push(decodeControl(f)))
    await pair.a.send(encodeStart({ slot: 0, tid: 9, flags: FLAG_INTACT, total: 7, segmentSize: 100 }))
    await until(() => replies.length > 0)
    expect(replies[0]).toMatchObject({ type: T_REJECT, tid: 9, reason: 4 })
    expect(drops.map((e) => e.message)).toEqual(['malformed START'])
    expect(b.stats().bytesHeld).toBe(0)
    await b.close()
  })

  it('ignores a fountain SYMBOL flagged intact: one-way streams always end with SHA-256', async () => {
    const pair = memoryLinkPair({ mtu: 4096, duplex: false })
    const b = createTransport(pair.b, fast)
    const symbol = { tid: 3, total: 1000, symbolId: 0, payload: seededBytes(100, 46) }
    await pair.a.send(encodeSymbol({ ...symbol, flags: FLAG_INTACT }))
    await until(() => b.stats().framesIgnored === 1)
    expect(b.stats().bytesHeld).toBe(0)
    // the same symbol without the flag is taken
    await pair.a.send(encodeSymbol({ ...symbol, flags: 0 }))
    await until(() => b.stats().bytesHeld > 0)
    expect(b.stats().framesIgnored).toBe(1)
    await b.close()
  })

  it('never delivers a payload a lying "intact" link altered: the digest refuses it and the sender resends', async () => {
    const pair = memoryLinkPair({ mtu: 4096, intact: true })
    let flipped = 0
    const liar = declared(pair.a, true, (f) => {
      if (!isDataFrame(f) || flipped > 0 || f.length < 100) return f
      flipped++
      const bad = f.slice()
      bad[50] = (bad[50] as number) ^ 0x10 // inside the payload: the header-only check lets it through
      return bad
    })
    const drops: CarrierError[] = []
    const a = createTransport(liar, fast)
    const b = createTransport(pair.b, { ...fast, onDrop: (e) => drops.push(e) })
    const data = seededBytes(200_000, 43)
    const got = firstMessage(b)
    const report = await a.send(data, { compress: false })
    expect((await got).data).toEqual(data)
    expect(flipped).toBe(1)
    expect(drops.map((e) => e.code)).toEqual(['ERR_INTEGRITY'])
    expect(report.confirmed).toBe(true)
    await a.close()
    await b.close()
  })

  it('gives up with ERR_INTEGRITY, delivering nothing, when the link keeps altering payloads', async () => {
    const pair = memoryLinkPair({ mtu: 4096, intact: true })
    const liar = declared(pair.a, true, (f) => {
      if (!isDataFrame(f) || f.length < 100) return f
      const bad = f.slice()
      bad[60] = (bad[60] as number) ^ 1
      return bad
    })
    const a = createTransport(liar, fast)
    const b = createTransport(pair.b, fast)
    const got: Received[] = []
    const reading = (async () => {
      for await (const r of b.receive()) got.push(r)
    })()
    await expect(a.send(seededBytes(20_000, 44), { compress: false })).rejects.toMatchObject({ code: 'ERR_INTEGRITY' })
    expect(got).toHaveLength(0)
    await a.close()
    await b.close()
    await reading
  })

  it('is refused by a receiver whose own link is not intact (a radio link keeps its per-frame CRC)', async () => {
    const pair = memoryLinkPair({ mtu: 4096 })
    const drops: CarrierError[] = []
    const a = createTransport(declared(pair.a, true), fast)
    const b = createTransport(pair.b, { ...fast, onDrop: (e) => drops.push(e) })
    await expect(a.send(seededBytes(10_000, 45), { compress: false })).rejects.toMatchObject({ code: 'ERR_REJECTED' })
    expect(drops[0]?.message).toMatch(/FLAG_INTACT/)
    await a.close()
    await b.close()
  })
})
