import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../src/agent/backoff.js'
import { seededRandom as seeded } from '../../src/testing/prng.js'

describe('reconnect back-off', () => {
  it('doubles up to the cap, each wait jittered into the upper half of its step', () => {
    const low = { baseMs: 100, maxMs: 1000, random: () => 0 }
    const high = { baseMs: 100, maxMs: 1000, random: () => 0.999999 }
    expect([0, 1, 2, 3, 4, 10, 1000].map((a) => backoffDelay(a, low))).toEqual([50, 100, 200, 400, 500, 500, 500])
    expect([0, 1, 2, 3, 4, 10, 1000].map((a) => backoffDelay(a, high))).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
  })

  it('a seeded source gives the same spread-out sequence every run (defaults 250 … 10 000 ms)', () => {
    const a = Array.from({ length: 8 }, (_, i) => backoffDelay(i, { random: seeded(7) }))
    const b = Array.from({ length: 8 }, (_, i) => backoffDelay(i, { random: seeded(7) }))
    expect(a).toEqual(b)
    a.forEach((d, i) => {
      const cap = Math.min(10_000, 250 * 2 ** i)
      expect(d).toBeGreaterThanOrEqual(cap / 2)
      expect(d).toBeLessThanOrEqual(cap)
    })
    // clients with different seeds do not come back in step
    const others = Array.from({ length: 8 }, (_, i) => backoffDelay(i, { random: seeded(8) }))
    expect(others).not.toEqual(a)
  })
})
