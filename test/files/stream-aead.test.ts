import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { gcm } from '@noble/ciphers/aes'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  cipherBytesOf,
  openAll,
  openSegment,
  plainBytesOf,
  StreamOpener,
  type StreamParams,
  StreamSealer,
  sealAll,
  sealSegment,
  segmentNonce,
  segmentSpan,
} from '../../src/files/stream-aead.js'
import { seededBytes, seededRandom } from '../../src/testing/index.js'

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

const vectors = JSON.parse(readFileSync(new URL('../fixtures/files/stream-aead-v1.json', import.meta.url), 'utf8')) as {
  key_hex: string
  nonce_prefix_hex: string
  segment_bytes: number
  cases: {
    plaintext_bytes: number
    plaintext_sha256: string
    ciphertext_bytes: number
    ciphertext_sha256: string
    ciphertext_hex?: string
  }[]
}
const V: StreamParams = { key: hex(vectors.key_hex), prefix: hex(vectors.nonce_prefix_hex), segmentBytes: vectors.segment_bytes }
const plain = (n: number) => Uint8Array.from({ length: n }, (_, j) => (j * 7 + 3) & 0xff)

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return (e as { code?: string }).code
  }
  return undefined
}

describe('encrypted blob format v1 (STREAM over AES-256-GCM)', () => {
  it('matches the committed vectors, whole and fed one odd-sized chunk at a time', () => {
    for (const c of vectors.cases) {
      const p = plain(c.plaintext_bytes)
      expect(sha(p)).toBe(c.plaintext_sha256)
      const ct = sealAll(V, p)
      expect(ct.length).toBe(c.ciphertext_bytes)
      expect(cipherBytesOf(c.plaintext_bytes, V.segmentBytes)).toBe(c.ciphertext_bytes)
      expect(sha(ct)).toBe(c.ciphertext_sha256)
      if (c.ciphertext_hex) expect(toHex(ct)).toBe(c.ciphertext_hex)
      const sealer = new StreamSealer(V)
      const parts: Uint8Array[] = []
      for (let at = 0; at < p.length; at += 333) parts.push(...sealer.push(p.subarray(at, at + 333)))
      parts.push(sealer.end())
      expect(sha(Buffer.concat(parts))).toBe(c.ciphertext_sha256)
      expect(openAll(V, ct)).toEqual(p)
      expect(plainBytesOf(ct.length, V.segmentBytes)).toBe(c.plaintext_bytes)
    }
  })

  it('is plain AES-256-GCM per segment: a generic GCM with the spelled-out nonce opens each segment', () => {
    const p = plain(2500)
    const ct = sealAll(V, p)
    const nonce = (i: number, last: number) => Uint8Array.from([...V.prefix, 0, 0, 0, i, last])
    expect(segmentNonce(V.prefix, 2, true)).toEqual(nonce(2, 1))
    const opened = [0, 1, 2].map((i) => {
      const span = segmentSpan(i, p.length, V.segmentBytes)
      return gcm(V.key, nonce(i, i === 2 ? 1 : 0)).decrypt(ct.subarray(span.offset, span.offset + span.length))
    })
    expect(Buffer.concat(opened)).toEqual(Buffer.from(p))
  })

  it('round-trips any size in any chunking (property, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1024, max: 4096 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (size, segmentBytes, chunk, seed) => {
          const params = { key: seededBytes(32, seed), prefix: seededBytes(7, seed + 1), segmentBytes }
          const data = seededBytes(size, seed + 2)
          const sealer = new StreamSealer(params)
          const opener = new StreamOpener(params, cipherBytesOf(size, segmentBytes))
          const out: Uint8Array[] = []
          const rnd = seededRandom(seed)
          for (let at = 0; at < size; ) {
            const n = 1 + Math.floor(rnd() * chunk)
            for (const s of sealer.push(data.subarray(at, at + n))) out.push(...opener.push(s))
            at += n
          }
          out.push(...opener.push(sealer.end()), opener.end())
          expect(Buffer.concat(out)).toEqual(Buffer.from(data))
        },
      ),
      { numRuns: 150, seed: 29 },
    )
  })

  it('resumes opening at a segment boundary', () => {
    const p = plain(5000)
    const ct = sealAll(V, p)
    const from = segmentSpan(3, p.length, V.segmentBytes)
    const o = new StreamOpener(V, ct.length, 3)
    const tail = Buffer.concat([...o.push(ct.subarray(from.offset)), o.end()])
    expect(tail).toEqual(Buffer.from(p.subarray(3 * V.segmentBytes)))
  })

  describe('refuses hostile ciphertext with ERR_FILE_INTEGRITY, releasing no unverified byte', () => {
    const p = plain(4000) // 4 segments of 1024, the last 928 bytes
    const ct = sealAll(V, p)
    const seg = (i: number) => segmentSpan(i, p.length, V.segmentBytes)

    it('a flipped byte in a segment', () => {
      const bad = ct.slice()
      const at = seg(1).offset + 10
      bad[at] = (bad[at] ?? 0) ^ 0x01
      const o = new StreamOpener(V, bad.length)
      // Segment 0 is released (it verified); segment 1 fails before any of its bytes come out.
      const out: Uint8Array[] = []
      const code = codeOf(() => {
        for (let at = 0; at < bad.length; at += 500) out.push(...o.push(bad.subarray(at, at + 500)))
        out.push(o.end())
      })
      expect(code).toBe('ERR_FILE_INTEGRITY')
      expect(Buffer.concat(out)).toEqual(Buffer.from(p.subarray(0, 1024)))
    })

    it('two segments swapped', () => {
      const a = seg(0)
      const b = seg(1)
      const bad = Buffer.concat([
        ct.subarray(b.offset, b.offset + b.length),
        ct.subarray(a.offset, a.offset + a.length),
        ct.subarray(seg(2).offset),
      ])
      expect(bad.length).toBe(ct.length)
      expect(codeOf(() => openAll(V, bad))).toBe('ERR_FILE_INTEGRITY')
    })

    it('truncated: the last segment dropped, or its last bytes', () => {
      const noLast = ct.subarray(0, seg(3).offset)
      // Opened as a blob of its own size, the final full segment is not flagged last.
      expect(codeOf(() => openAll(V, noLast))).toBe('ERR_FILE_INTEGRITY')
      // Against the announced size, the stream ends early.
      const o = new StreamOpener(V, ct.length)
      o.push(noLast)
      expect(codeOf(() => o.end())).toBe('ERR_FILE_INTEGRITY')
      expect(codeOf(() => openAll(V, ct.subarray(0, ct.length - 1)))).toBe('ERR_FILE_INTEGRITY')
    })

    it('extended: bytes or a whole segment appended', () => {
      // Against the size the share-media message announced.
      const o = new StreamOpener(V, ct.length)
      expect(codeOf(() => o.push(Buffer.concat([ct, new Uint8Array(1)])))).toBe('ERR_FILE_INTEGRITY')
      // Opened at its own size: the old last segment is no longer last, and fails.
      const more = sealSegment(V, 4, true, plain(100))
      expect(codeOf(() => openAll(V, Buffer.concat([ct, more])))).toBe('ERR_FILE_INTEGRITY')
    })

    it('a wrong key or a wrong nonce prefix', () => {
      expect(codeOf(() => openAll({ ...V, key: seededBytes(32, 1) }, ct))).toBe('ERR_FILE_INTEGRITY')
      expect(codeOf(() => openAll({ ...V, prefix: seededBytes(7, 1) }, ct))).toBe('ERR_FILE_INTEGRITY')
      expect(codeOf(() => openSegment(V, 0, true, ct.subarray(0, seg(0).length)))).toBe('ERR_FILE_INTEGRITY')
    })
  })

  it('refuses sizes and parameters no honest sender produces with ERR_FILE_FORMAT', () => {
    expect(codeOf(() => plainBytesOf(1024 + 16 + 5, 1024))).toBe('ERR_FILE_FORMAT') // a tail shorter than a tag
    expect(codeOf(() => plainBytesOf(15, 1024))).toBe('ERR_FILE_FORMAT')
    expect(codeOf(() => new StreamOpener({ ...V, segmentBytes: 10 }, 100))).toBe('ERR_FILE_FORMAT')
    expect(codeOf(() => new StreamOpener({ ...V, key: new Uint8Array(16) }, 100))).toBe('ERR_FILE_FORMAT')
    expect(codeOf(() => new StreamOpener(V, 100, 5))).toBe('ERR_FILE_FORMAT')
  })
})
