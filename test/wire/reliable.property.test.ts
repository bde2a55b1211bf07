import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CarrierError, createTransport, type Received } from '../../src/index.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'

const fast = { initialRtoMs: 30, minRtoMs: 10, ackDelayMs: 2, transferTimeoutMs: 4000 }

describe('reliable session under impairments (property)', () => {
  it('delivers every message exactly once and byte-exact, or rejects with a typed error', async () => {
    const stats = { sent: 0, delivered: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          mtu: fc.integer({ min: 20, max: 400 }),
          loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
          reorder: fc.double({ min: 0, max: 0.2, noNaN: true }),
          corrupt: fc.double({ min: 0, max: 0.1, noNaN: true }),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          sizes: fc.array(fc.integer({ min: 4, max: 6000 }), { minLength: 1, maxLength: 4 }),
        }),
        async ({ sizes, seed, ...impair }) => {
          const pair = memoryLinkPair({ ...impair, seed })
          const a = createTransport(pair.a, fast)
          const b = createTransport(pair.b, fast)
          const got: Received[] = []
          const reading = (async () => {
            for await (const r of b.receive()) got.push(r)
          })()
          const sent: Uint8Array[] = []
          try {
            for (const [i, size] of sizes.entries()) {
              const data = message(size, seed, i)
              try {
                await a.send(data, { compress: i % 2 === 0 })
                sent.push(data)
              } catch (err) {
                expect(err).toBeInstanceOf(CarrierError)
              }
            }
            await new Promise((r) => setTimeout(r, 30))
            // every delivered message is one that was sent, and none twice
            const seen = new Set<string>()
            for (const r of got) {
              expect(seen.has(r.transferId)).toBe(false)
              seen.add(r.transferId)
              expect(sizes.some((s, i) => equal(r.data, message(s, seed, i)))).toBe(true)
            }
            // every send that resolved was delivered exactly once (messages are distinct by their first bytes)
            for (const s of sent) expect(got.filter((r) => equal(r.data, s))).toHaveLength(1)
            stats.sent += sizes.length
            stats.delivered += sent.length
          } finally {
            await a.close()
            await b.close()
            await reading
          }
        },
      ),
      { numRuns: 200, seed: 20261121 },
    )
    // Typed failures are allowed, but a session that fails most sends would pass vacuously.
    expect(stats.delivered / stats.sent).toBeGreaterThan(0.95)
  }, 600_000)
})

function message(size: number, seed: number, i: number): Uint8Array {
  const m = seededBytes(size, seed + i)
  m.set([0xee, i, seed & 0xff, (seed >>> 8) & 0xff].slice(0, size))
  return m
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
