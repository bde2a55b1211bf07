import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTransport, type Link, type Received } from '../../src/index.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import { decodeControl, encodeStart, FLAG_ANSWER, isDataFrame, T_ANSWER, T_START } from '../../src/wire/frame.js'
import { until } from '../support/until.js'

/**
 * Wire 1.2 on an intact link: a time-out sends only a START, and its ANSWER says which frames were
 * lost. ANSWERs are paired with STARTs by count, so a lost START (or ANSWER) pairs later ANSWERs
 * with earlier STARTs until the sender catches up: the sender must still resend every lost frame.
 */
const fast = { initialRtoMs: 30, minRtoMs: 10, ackDelayMs: 2, windowBytes: 16 * 1024 }
/** Hang detection only: a transfer whose lost frames were never resent stops making progress. */
const HANG_MS = 30_000

/** `link` with every frame it sends counted by type. */
function counted(link: Link, count: (f: Uint8Array) => void): Link {
  return {
    mtu: link.mtu,
    duplex: link.duplex,
    intact: link.intact,
    send: (f, signal) => {
      count(f)
      return link.send(f, signal)
    },
    onFrame: (h) => link.onFrame(h),
    close: () => link.close(),
  }
}

function kind(f: Uint8Array): 'start' | 'answer' | 'data' | 'other' {
  if (isDataFrame(f)) return 'data'
  const c = decodeControl(f)
  return c?.type === T_START ? 'start' : c?.type === T_ANSWER ? 'answer' : 'other'
}

describe('ANSWER on an intact link (wire 1.2)', () => {
  it('resends every lost frame when STARTs and ANSWERs are lost too: every send completes (property)', async () => {
    const lost = { start: 0, answer: 0, data: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          mtu: fc.integer({ min: 64, max: 2048 }),
          loss: fc.double({ min: 0.02, max: 0.25, noNaN: true }),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          sizes: fc.array(fc.integer({ min: 1000, max: 60_000 }), { minLength: 1, maxLength: 3 }),
        }),
        async ({ sizes, seed, mtu, loss }) => {
          const pair = memoryLinkPair({ mtu, loss, seed, intact: true })
          const sent = { start: 0, answer: 0, data: 0, other: 0 }
          const heard = { start: 0, answer: 0, data: 0, other: 0 }
          pair.b.onFrame((f) => heard[kind(f)]++)
          pair.a.onFrame((f) => heard[kind(f)]++)
          const a = createTransport(
            counted(pair.a, (f) => sent[kind(f)]++),
            { ...fast, transferTimeoutMs: HANG_MS },
          )
          const b = createTransport(
            counted(pair.b, (f) => sent[kind(f)]++),
            fast,
          )
          const got: Received[] = []
          const reading = (async () => {
            for await (const r of b.receive()) got.push(r)
          })()
          try {
            for (const [i, size] of sizes.entries()) {
              const data = seededBytes(size, seed + i)
              // no typed failure allowed: loss alone must never stop a transfer on an intact link
              await a.send(data, { compress: false })
              await until(() => got.length === i + 1, HANG_MS)
              expect(got[i]?.data).toEqual(data)
            }
            lost.start += sent.start - heard.start
            lost.answer += sent.answer - heard.answer
            lost.data += sent.data - heard.data
          } finally {
            await a.close()
            await b.close()
            await reading
          }
        },
      ),
      { numRuns: 60, seed: 20261207 },
    )
    // the runs did lose STARTs and ANSWERs, not only DATA
    expect(lost.start).toBeGreaterThan(5)
    expect(lost.answer).toBeGreaterThan(5)
    expect(lost.data).toBeGreaterThan(100)
  }, 600_000)

  it('sends nothing twice when time-outs fire while frames are only queued (a slow link), unlike a link not intact', async () => {
    // 100 ms each way against a 30 ms first time-out: the sender times out (several times) before
    // anything comes back, with every frame only queued, none lost
    const run = async (intact: boolean) => {
      const pair = memoryLinkPair({ mtu: 4096, latencyMs: 100, intact })
      const a = createTransport(pair.a, { ...fast, transferTimeoutMs: HANG_MS })
      const b = createTransport(pair.b, fast)
      const data = seededBytes(200_000, 7)
      const got = (async () => {
        for await (const r of b.receive()) return r
      })()
      try {
        const report = await a.send(data, { compress: false })
        expect((await got)?.data).toEqual(data)
        return report.retransmissions
      } finally {
        await a.close()
        await b.close()
      }
    }
    expect(await run(true)).toBe(0)
    // the same without Link.intact: the answer to a probe resends what was in flight (wire 1.1)
    expect(await run(false)).toBeGreaterThan(0)
  })

  it('a 1.1 receiver after a 1.2 one on the same link: its transfers keep the 1.1 time-outs and lost tails are resent', async () => {
    const pair = memoryLinkPair({ mtu: 4096, intact: true })
    let old = false
    let dataInOld = 0
    const dropped: number[] = []
    // once `old`, STARTs reach the receiver without FLAG_ANSWER (it then answers REPORT, as 1.1
    // does), and the last three DATA frames of the first pass are lost
    const link: Link = {
      mtu: pair.a.mtu,
      duplex: true,
      intact: true,
      send: (f, signal) => {
        if (!old) return pair.a.send(f, signal)
        const c = decodeControl(f)
        if (c?.type === T_START) return pair.a.send(encodeStart({ ...c, flags: c.flags & ~FLAG_ANSWER }), signal)
        if (isDataFrame(f) && [12, 13, 14].includes(dataInOld++)) {
          dropped.push(dataInOld)
          return Promise.resolve()
        }
        return pair.a.send(f, signal)
      },
      onFrame: (h) => pair.a.onFrame(h),
      close: () => pair.a.close(),
    }
    const a = createTransport(link, { ...fast, transferTimeoutMs: HANG_MS })
    const b = createTransport(pair.b, fast)
    const got: Received[] = []
    const reading = (async () => {
      for await (const r of b.receive()) got.push(r)
    })()
    try {
      await a.send(seededBytes(60_000, 1), { compress: false })
      old = true
      const data = seededBytes(60_000, 2)
      const report = await a.send(data, { compress: false })
      await until(() => got.length === 2, HANG_MS)
      expect(got[1]?.data).toEqual(data)
      expect(dropped).toHaveLength(3)
      expect(report.retransmissions).toBeGreaterThanOrEqual(3)
    } finally {
      await a.close()
      await b.close()
      await reading
    }
  })
})
