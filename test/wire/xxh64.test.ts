import { describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/index.js'
import { createXxh64, createXxh64Portable, type Xxh64, xxh64Ready } from '../../src/wire/xxh64.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function run(h: Xxh64, data: Uint8Array, pieces: number[] = []): string {
  let at = 0
  for (const n of pieces) {
    h.update(data.subarray(at, Math.min(data.length, at + n)))
    at = Math.min(data.length, at + n)
  }
  h.update(data.subarray(at))
  return hex(h.digest())
}

describe('XXH64 (the stream digest on intact links)', () => {
  // published values: xxHash's own test suite and python-xxhash's README
  const vectors: [string, string][] = [
    ['', 'ef46db3751d8e999'],
    ['a', 'd24ec4f1a98c6e5b'],
    ['abc', '44bc2cf5ad770999'],
    ['Nobody inspects the spammish repetition', 'fbcea83c8a378bf1'],
  ]

  it('gives the published digests, in WebAssembly and in the BigInt fallback', async () => {
    await xxh64Ready()
    for (const [text, want] of vectors) {
      const data = new TextEncoder().encode(text)
      expect(run(createXxh64(), data)).toBe(want)
      expect(run(createXxh64Portable(), data)).toBe(want)
    }
  })

  it('agrees between the two implementations for every length and way of splitting the input', async () => {
    await xxh64Ready()
    for (let len = 0; len <= 200; len++) {
      const data = seededBytes(len, 1000 + len)
      const want = run(createXxh64(), data)
      expect(run(createXxh64Portable(), data, [len % 7, 1, 31, 33])).toBe(want)
      expect(run(createXxh64(), data, [3, 32, 5])).toBe(want)
    }
    const big = seededBytes(200_003, 7)
    expect(run(createXxh64Portable(), big, [65_529, 65_529])).toBe(run(createXxh64(), big))
  })
})
