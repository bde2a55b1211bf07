/** mulberry32: a tiny seeded PRNG so every random test and link impairment repeats exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function seededBytes(length: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed)
  const out = new Uint8Array(length)
  const words = new Uint32Array(out.buffer, 0, length >>> 2)
  for (let i = 0; i < words.length; i++) words[i] = (rnd() * 4294967296) >>> 0
  for (let i = words.length * 4; i < length; i++) out[i] = (rnd() * 256) | 0
  return out
}
