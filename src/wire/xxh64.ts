import xxhash, { type XXHashAPI } from 'xxhash-wasm'

/**
 * XXH64 (seed 0), the content checksum of zstd and LZ4 frames: the stream digest on links whose
 * frames arrive intact (see Link.intact). WebAssembly (xxhash-wasm, ~8 GB/s here, 6× native
 * SHA-256) once it has loaded; a BigInt implementation of the same function where WebAssembly is
 * missing (React Native's Hermes) or before it has loaded, so a receiver can always verify.
 */
export interface Xxh64 {
  update(data: Uint8Array): void
  /** The 8-byte digest, big-endian (xxHash's canonical form). */
  digest(): Uint8Array
}

let wasm: XXHashAPI | undefined
const loading: Promise<void> = (async () => {
  try {
    if (typeof WebAssembly === 'object') wasm = await xxhash()
  } catch {
    // the BigInt implementation stands in
  }
})()

/** Resolves once the WebAssembly implementation is loaded (or known to be unavailable). */
export function xxh64Ready(): Promise<void> {
  return loading
}

export function createXxh64(): Xxh64 {
  if (wasm) {
    const h = wasm.create64()
    return { update: (d) => void h.update(d), digest: () => toBytes(h.digest()) }
  }
  return createXxh64Portable()
}

export function xxh64(data: Uint8Array): Uint8Array {
  const h = createXxh64()
  h.update(data)
  return h.digest()
}

function toBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, v)
  return out
}

// ---- the portable implementation (xxHash spec, XXH64) ------------------------------------------

const M = (1n << 64n) - 1n
const P1 = 0x9e3779b185ebca87n
const P2 = 0xc2b2ae3d27d4eb4fn
const P3 = 0x165667b19e3779f9n
const P4 = 0x85ebca77c2b2ae63n
const P5 = 0x27d4eb2f165667c5n

const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M
const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * P2) & M, 31n) * P1) & M
const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * P1 + P4) & M) as bigint

/** XXH64 in BigInt arithmetic: slow (tens of MB/s) but everywhere. Exported for tests. */
export function createXxh64Portable(): Xxh64 {
  const v = [(P1 + P2) & M, P2, 0n, (0n - P1) & M]
  const buf = new Uint8Array(32)
  const view = new DataView(buf.buffer)
  let buffered = 0
  let total = 0
  let stripes = false
  const stripe = (dv: DataView, at: number) => {
    for (let i = 0; i < 4; i++) v[i] = round(v[i] as bigint, dv.getBigUint64(at + 8 * i, true))
    stripes = true
  }
  return {
    update(data) {
      total += data.length
      let i = 0
      if (buffered > 0) {
        const take = Math.min(32 - buffered, data.length)
        buf.set(data.subarray(0, take), buffered)
        buffered += take
        i = take
        if (buffered < 32) return
        stripe(view, 0)
        buffered = 0
      }
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength)
      for (; i + 32 <= data.length; i += 32) stripe(dv, i)
      buf.set(data.subarray(i), 0)
      buffered = data.length - i
    },
    digest() {
      let h: bigint
      if (stripes) {
        const [a, b, c, d] = v as [bigint, bigint, bigint, bigint]
        h = (rotl(a, 1n) + rotl(b, 7n) + rotl(c, 12n) + rotl(d, 18n)) & M
        for (const lane of [a, b, c, d]) h = merge(h, lane)
      } else h = P5
      h = (h + BigInt(total)) & M
      let i = 0
      for (; i + 8 <= buffered; i += 8) h = (rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n) * P1 + P4) & M
      if (i + 4 <= buffered) {
        h = (rotl(h ^ ((BigInt(view.getUint32(i, true)) * P1) & M), 23n) * P2 + P3) & M
        i += 4
      }
      for (; i < buffered; i++) h = (rotl(h ^ ((BigInt(buf[i] as number) * P5) & M), 11n) * P1) & M
      h ^= h >> 33n
      h = (h * P2) & M
      h ^= h >> 29n
      h = (h * P3) & M
      h ^= h >> 32n
      return toBytes(h)
    },
  }
}
