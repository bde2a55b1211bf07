import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fountainTrial, seededBytes, seededRandom } from '../../src/testing/index.js'
import { blockCount, coefficients, FountainDecoder, FountainEncoder } from '../../src/wire/fountain/code.js'

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

describe('fountain code', () => {
  it('decodes exactly the input whatever is lost and wherever the receiver joins (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 97 }),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (size, symbolSize, loss, join, seed) => {
          const data = seededBytes(size, seed)
          const enc = new FountainEncoder(data, symbolSize, seed)
          const dec = new FountainDecoder(size, symbolSize, seed)
          const rnd = seededRandom(seed + 1)
          for (let id = join; !dec.complete; id++) if (rnd() >= loss) dec.add(id, enc.symbol(id))
          expect(dec.result()).toEqual(data)
        },
      ),
      { numRuns: 300, seed: 7 },
    )
  })

  it('needs median ≤ K+3 and p95 ≤ K+8 frames at 30 % loss joining mid-stream, K = 100 and 1000', () => {
    for (const [k, trials] of [
      [100, 200],
      [1000, 40],
    ] as const) {
      const extra: number[] = []
      for (let t = 0; t < trials; t++) {
        const join = 1 + Math.floor(seededRandom(t + k)() * 3 * k)
        const r = fountainTrial(k, 16, 0.3, join, 1000 + t)
        expect(r.ok).toBe(true)
        extra.push(r.received - k)
      }
      expect(quantile(extra, 0.5)).toBeLessThanOrEqual(3)
      expect(quantile(extra, 0.95)).toBeLessThanOrEqual(8)
    }
  })

  it('reports exact progress: rank grows by one per independent symbol and never past K', () => {
    const data = seededBytes(1000, 1)
    const enc = new FountainEncoder(data, 100, 77)
    const dec = new FountainDecoder(1000, 100, 77)
    expect(dec.k).toBe(blockCount(1000, 100))
    let rank = 0
    for (let id = 3; !dec.complete; id++) {
      const raised = dec.add(id, enc.symbol(id))
      rank += raised ? 1 : 0
      expect(dec.rank).toBe(rank)
    }
    expect(dec.rank).toBe(10)
    expect(dec.add(999, enc.symbol(999))).toBe(false)
    expect(dec.rank).toBe(10)
  })

  it('derives the same coefficients on both sides and never an empty combination', () => {
    for (const k of [1, 2, 31, 32, 33, 100]) {
      for (let id = k; id < k + 200; id++) {
        const c = coefficients(123, id, k)
        expect(c).toEqual(coefficients(123, id, k))
        expect(c.some((w) => w !== 0)).toBe(true)
        // no bits beyond K
        if (k % 32) expect((c[c.length - 1] as number) >>> (k % 32)).toBe(0)
      }
    }
    expect(coefficients(1, 500, 100)).not.toEqual(coefficients(2, 500, 100))
  })

  it('ignores a symbol of the wrong size', () => {
    const dec = new FountainDecoder(100, 10, 1)
    expect(dec.add(0, new Uint8Array(9))).toBe(false)
    expect(dec.rank).toBe(0)
  })
})
