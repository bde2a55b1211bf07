import { describe, expect, it } from 'vitest'
import { type CarrierError, createTransport, type Received } from '../../src/index.js'
import { memoryLinkPair, seededBytes, seededRandom } from '../../src/testing/index.js'
import { writeU32 } from '../../src/wire/bytes.js'
import { crc32 } from '../../src/wire/checksum.js'
import {
  decodeControl,
  encodeData,
  encodeReport,
  encodeStart,
  encodeSymbol,
  FLAG_COMPACT,
  T_REJECT,
  T_REPORT,
} from '../../src/wire/frame.js'
import { until } from '../support/until.js'

function collect(t: { receive(): AsyncIterable<Received> }) {
  const items: Received[] = []
  const done = (async () => {
    for await (const r of t.receive()) items.push(r)
  })()
  return { items, done }
}

function sealed(bytes: Uint8Array): Uint8Array {
  writeU32(bytes, bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4), 0))
  return bytes
}

/** Frames a fuzzer or a hostile peer would send: noise, and well-formed frames that lie. */
function hostileFrame(rnd: () => number, mtu: number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n)
  const tid = int(2 ** 32)
  switch (int(7)) {
    case 0:
      return seededBytes(1 + int(mtu), int(2 ** 31))
    case 1:
      return encodeStart({ slot: int(16), tid, flags: int(16), total: int(2 ** 32), segmentSize: 1 + int(100_000) })
    case 2:
      return encodeStart({
        slot: int(16),
        tid: int(8),
        flags: int(4) | FLAG_COMPACT,
        total: 32 + int(300_000),
        segmentSize: 1 + int(64),
      })
    case 3:
      return encodeData(int(16), int(8), int(3000), rnd() < 0.5, seededBytes(int(mtu - 8), int(1000)))
    case 4:
      return encodeSymbol({
        tid,
        flags: int(8),
        total: int(2 ** 32),
        symbolId: int(10_000),
        payload: seededBytes(1 + int(mtu - 19), int(99)),
      })
    case 5:
      return encodeReport({ tid, base: int(1e6), credit: int(1e6), bitmap: seededBytes(int(8), 5) }, mtu)
    default: {
      // a valid CRC over a header that claims more than it has
      const f = seededBytes(9 + int(20), int(1e6))
      f[0] = 0xa0 | int(6)
      return sealed(f)
    }
  }
}

describe('receiver limits', () => {
  it('stays within its byte limit under 10,000 hostile frames and still delivers the next real message', async () => {
    const pair = memoryLinkPair({ mtu: 512, seed: 3 })
    const limit = 1024 * 1024
    const drops: string[] = []
    const receiver = createTransport(pair.b, {
      maxBytesHeld: limit,
      maxMessageBytes: 300 * 1024,
      maxConcurrentTransfers: 8,
      onDrop: (e) => drops.push(e.code),
    })
    const inbox = collect(receiver)
    const rnd = seededRandom(10_000)
    let maxHeld = 0
    for (let i = 0; i < 10_000; i++) {
      await pair.a.send(hostileFrame(rnd, pair.a.mtu))
      if (i % 50 === 0) await new Promise((r) => setImmediate(r))
      const s = receiver.stats()
      maxHeld = Math.max(maxHeld, s.bytesHeld + s.queuedBytes)
      expect(s.partialTransfers).toBeLessThanOrEqual(8)
    }
    await new Promise((r) => setTimeout(r, 20))
    expect(maxHeld).toBeLessThanOrEqual(limit)
    expect(receiver.stats().framesIgnored).toBeGreaterThan(1000)
    expect(drops.length).toBeGreaterThan(0)

    const sender = createTransport(pair.a)
    const real = seededBytes(200 * 1024, 77)
    await sender.send(real)
    await until(() => inbox.items.some((r) => r.data.length === real.length))
    const got = inbox.items.find((r) => r.data.length === real.length)
    expect(got?.data).toEqual(real)
    await sender.close()
    await receiver.close()
  })

  it('refuses a compressed message that inflates past the limit (a deflate bomb)', async () => {
    const pair = memoryLinkPair({ mtu: 1024, seed: 4 })
    const drops: string[] = []
    const a = createTransport(pair.a)
    const b = createTransport(pair.b, { maxMessageBytes: 100_000, onDrop: (e) => drops.push(e.code) })
    const inbox = collect(b)
    const bomb = new Uint8Array(5_000_000) // 5 MB of zeros deflates to about 5 KB
    const report = a.send(bomb, { compress: true })
    await expect(report).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
    expect(drops).toContain('ERR_MESSAGE_TOO_LARGE')
    const next = await a.send('{"type":"next"}')
    expect(next.confirmed).toBe(true)
    await until(() => inbox.items.length === 1)
    expect(new TextDecoder().decode(inbox.items[0]?.data)).toBe('{"type":"next"}')
    await a.close()
    await b.close()
  })

  it('drops partial state after its TTL and says so', async () => {
    const pair = memoryLinkPair({ mtu: 100, seed: 5 })
    const drops: CarrierError[] = []
    const b = createTransport(pair.b, { partialTtlMs: 80, onDrop: (e) => drops.push(e) })
    await pair.a.send(encodeStart({ slot: 1, tid: 42, flags: 0, total: 10_000, segmentSize: 93 }))
    await until(() => b.stats().partialTransfers === 1)
    expect(b.stats().bytesHeld).toBe(10_000)
    await until(() => b.stats().partialTransfers === 0, 2000)
    expect(b.stats().bytesHeld).toBe(0)
    expect(drops.map((e) => e.code)).toEqual(['ERR_TRANSFER_TIMEOUT'])
    await b.close()
  })

  it('drops the least recently active transfer beyond the concurrency limit, with a REJECT on the wire', async () => {
    const pair = memoryLinkPair({ mtu: 100, seed: 6 })
    const b = createTransport(pair.b, { maxConcurrentTransfers: 2 })
    const replies: ReturnType<typeof decodeControl>[] = []
    pair.a.onFrame((f) => replies.push(decodeControl(f)))
    for (const tid of [1, 2, 3]) {
      await pair.a.send(encodeStart({ slot: tid, tid, flags: 0, total: 1000, segmentSize: 93 }))
      await new Promise((r) => setTimeout(r, 5))
    }
    await until(() => replies.some((r) => r?.type === T_REJECT))
    expect(b.stats().partialTransfers).toBe(2)
    expect(replies.find((r) => r?.type === T_REJECT)).toMatchObject({ tid: 1, reason: 2 })
    expect(replies.filter((r) => r?.type === T_REPORT).map((r) => (r && 'tid' in r ? r.tid : undefined))).toEqual([1, 2, 3])
    await b.close()
  })

  it('refuses a START larger than the message limit before holding anything', async () => {
    const pair = memoryLinkPair({ mtu: 100, seed: 7 })
    const b = createTransport(pair.b, { maxMessageBytes: 1000 })
    const replies: ReturnType<typeof decodeControl>[] = []
    pair.a.onFrame((f) => replies.push(decodeControl(f)))
    await pair.a.send(encodeStart({ slot: 0, tid: 9, flags: 0, total: 50_000_000, segmentSize: 93 }))
    await until(() => replies.length === 1)
    expect(replies[0]).toMatchObject({ type: T_REJECT, tid: 9, reason: 1 })
    expect(b.stats().bytesHeld).toBe(0)
    await b.close()
  })

  it('rejects a transfer whose reassembled bytes fail the SHA-256, and delivers nothing', async () => {
    const pair = memoryLinkPair({ mtu: 100, seed: 8 })
    const b = createTransport(pair.b)
    const inbox = collect(b)
    const replies: ReturnType<typeof decodeControl>[] = []
    pair.a.onFrame((f) => replies.push(decodeControl(f)))
    const stream = seededBytes(100, 1) // the last 32 bytes are not the digest of the first 68
    await pair.a.send(encodeStart({ slot: 0, tid: 5, flags: 2, total: 100, segmentSize: 93 }))
    await pair.a.send(encodeData(0, 5, 0, false, stream.subarray(0, 93)))
    await pair.a.send(encodeData(0, 5, 1, false, stream.subarray(93)))
    await until(() => replies.some((r) => r?.type === T_REJECT))
    expect(replies.find((r) => r?.type === T_REJECT)).toMatchObject({ tid: 5, reason: 3 })
    expect(inbox.items).toHaveLength(0)
    await b.close()
  })

  it('times out with ERR_TRANSFER_TIMEOUT when the receiver never answers', async () => {
    const pair = memoryLinkPair({ mtu: 100, seed: 9 })
    const a = createTransport(pair.a, { transferTimeoutMs: 300, initialRtoMs: 50 })
    await expect(a.send('{"type":"lost"}')).rejects.toMatchObject({ code: 'ERR_TRANSFER_TIMEOUT' })
    await a.close()
  })

  it('refuses to send over a link whose MTU is below 20 bytes', async () => {
    const pair = memoryLinkPair({ mtu: 12 })
    const a = createTransport(pair.a)
    await expect(a.send('{}')).rejects.toMatchObject({ code: 'ERR_MTU_TOO_SMALL' })
    await a.close()
  })

  it('refuses a message over the sender limit before sending anything', async () => {
    const pair = memoryLinkPair({ mtu: 100 })
    const a = createTransport(pair.a, { maxMessageBytes: 10 })
    await expect(a.send(new Uint8Array(11))).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
    expect(pair.counters.frames[0]).toBe(0)
    await a.close()
  })

  it('delivers a bare DIDComm JSON envelope sent in one frame by an agent that does not chunk', async () => {
    const pair = memoryLinkPair({ mtu: 1000 })
    const b = createTransport(pair.b)
    const inbox = collect(b)
    const jwe = '{"protected":"eyJ","recipients":[],"iv":"a","ciphertext":"b","tag":"c"}'
    await pair.a.send(new TextEncoder().encode(jwe))
    await until(() => inbox.items.length === 1)
    expect(inbox.items[0]).toMatchObject({ mediaType: 'application/didcomm-encrypted+json' })
    expect(new TextDecoder().decode(inbox.items[0]?.data)).toBe(jwe)
    await b.close()
  })

  it('compresses JSON envelopes by default and reports it', async () => {
    const pair = memoryLinkPair({ mtu: 200 })
    const a = createTransport(pair.a)
    const b = createTransport(pair.b)
    const inbox = collect(b)
    const json = JSON.stringify({ ciphertext: 'A'.repeat(5000), protected: 'eyJhbGciOi'.repeat(50) })
    const report = await a.send(json)
    expect(report.compressed).toBe(true)
    expect(report.streamBytes).toBeLessThan(json.length / 2)
    await until(() => inbox.items.length === 1)
    expect(new TextDecoder().decode(inbox.items[0]?.data)).toBe(json)
    const raw = await a.send(seededBytes(5000, 1), { mediaType: 'application/didcomm-encrypted+json' })
    expect(raw.compressed).toBe(false)
    await a.close()
    await b.close()
  })
})

describe('handler delivery (onMessage)', () => {
  it('acknowledges only after the handler returned, and refuses the transfer when it throws', async () => {
    const pair = memoryLinkPair({ mtu: 300, seed: 12 })
    const order: string[] = []
    const a = createTransport(pair.a)
    const b = createTransport(pair.b, {
      onMessage: async (r) => {
        const text = new TextDecoder().decode(r.data)
        if (text.includes('boom')) throw new Error('cannot handle this')
        await new Promise((res) => setTimeout(res, 50))
        order.push(`handled ${text}`)
      },
    })
    await a.send('{"type":"ok"}')
    order.push('send resolved')
    expect(order).toEqual(['handled {"type":"ok"}', 'send resolved'])
    await expect(a.send('{"type":"boom"}')).rejects.toMatchObject({ code: 'ERR_REJECTED' })
    await a.close()
    await b.close()
  })
})
