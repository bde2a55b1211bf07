/**
 * A file's bytes encrypted once, in fixed-size segments that each verify on their own
 * (docs/FILES.md "Encrypted blob format, version 1"): the STREAM construction
 * (Hoang–Reyhanitabar–Rogaway–Vizár) over AES-256-GCM, as age and Tink's streaming AEAD use it.
 *
 * Segment i of n is AES-256-GCM(key, nonce = prefix(7) ‖ uint32_be(i) ‖ last(1), aad = empty) of
 * plaintext bytes [i·S, min((i+1)·S, P)), where S is the segment size and last = 1 only for i = n−1.
 * n = max(1, ⌈P / S⌉): an empty file is one empty last segment. The counter in the nonce detects
 * reordering; the last flag detects truncation and extension. Pure: no I/O, no Node built-ins
 * (OpenSSL is used through the core's native probe when the runtime has it).
 */

import { randomBytes } from '@noble/ciphers/webcrypto'
import { aesGcmDecrypt, aesGcmEncrypt } from '../didcomm/cipher.js'
import { CarrierError } from '../transport.js'

/** The `ciphering.algorithm` of a share-media item encrypted this way. */
export const STREAM_ALGORITHM = 'aes-256-gcm-stream'
export const STREAM_VERSION = 1
export const KEY_BYTES = 32
export const PREFIX_BYTES = 7
export const TAG_BYTES = 16
/** Default plaintext bytes per segment: age's choice; the per-segment overhead is 16 / 65,536. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024
export const MIN_SEGMENT_BYTES = 1024
export const MAX_SEGMENT_BYTES = 16 * 1024 * 1024
/** The counter is 32 bits. */
export const MAX_SEGMENTS = 2 ** 32

const EMPTY = new Uint8Array(0)

/**
 * ERR_FILE_INTEGRITY: a segment does not verify (flipped byte, wrong key, reordered, truncated or
 * extended stream). ERR_FILE_FORMAT: parameters or sizes that no honest sender produces.
 */
export class FileCipherError extends CarrierError {}

const integrity = (m: string) => new FileCipherError('ERR_FILE_INTEGRITY', m)
const format = (m: string) => new FileCipherError('ERR_FILE_FORMAT', m)

export interface StreamParams {
  key: Uint8Array
  /** The nonce prefix: random per file, so a key reused by mistake still never repeats a nonce. */
  prefix: Uint8Array
  segmentBytes: number
}

/** A fresh content key and nonce prefix for one file. */
export function newStreamParams(segmentBytes = DEFAULT_SEGMENT_BYTES): StreamParams {
  const params = { key: randomBytes(KEY_BYTES), prefix: randomBytes(PREFIX_BYTES), segmentBytes }
  checkParams(params)
  return params
}

export function checkParams(p: StreamParams): void {
  if (!(p.key instanceof Uint8Array) || p.key.length !== KEY_BYTES) throw format(`the key must be ${KEY_BYTES} bytes`)
  if (!(p.prefix instanceof Uint8Array) || p.prefix.length !== PREFIX_BYTES)
    throw format(`the nonce prefix must be ${PREFIX_BYTES} bytes`)
  if (!Number.isSafeInteger(p.segmentBytes) || p.segmentBytes < MIN_SEGMENT_BYTES || p.segmentBytes > MAX_SEGMENT_BYTES)
    throw format(`segment size ${p.segmentBytes} is outside ${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES}`)
}

export function segmentNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_SEGMENTS) throw format(`segment index ${index} out of range`)
  const nonce = new Uint8Array(12)
  nonce.set(prefix)
  new DataView(nonce.buffer).setUint32(PREFIX_BYTES, index)
  nonce[11] = last ? 1 : 0
  return nonce
}

/** Segments of a plaintext of `plainBytes`. */
export function segmentCount(plainBytes: number, segmentBytes: number): number {
  if (!Number.isSafeInteger(plainBytes) || plainBytes < 0) throw format(`bad plaintext size ${plainBytes}`)
  return Math.max(1, Math.ceil(plainBytes / segmentBytes))
}

/** Ciphertext bytes of a plaintext of `plainBytes`. */
export function cipherBytesOf(plainBytes: number, segmentBytes: number): number {
  return plainBytes + segmentCount(plainBytes, segmentBytes) * TAG_BYTES
}

/** Plaintext bytes of a ciphertext of `cipherBytes`; ERR_FILE_FORMAT when no plaintext encrypts to that size. */
export function plainBytesOf(cipherBytes: number, segmentBytes: number): number {
  if (!Number.isSafeInteger(cipherBytes) || cipherBytes < TAG_BYTES) throw format(`ciphertext of ${cipherBytes} bytes`)
  const sealed = segmentBytes + TAG_BYTES
  const full = Math.floor(cipherBytes / sealed)
  const rest = cipherBytes - full * sealed
  // A partial tail must hold at least its tag; a ciphertext of whole segments ends with a full last one.
  if (rest > 0 && rest < TAG_BYTES) throw format(`ciphertext of ${cipherBytes} bytes ends inside a tag`)
  const plain = full * segmentBytes + (rest > 0 ? rest - TAG_BYTES : 0)
  if (cipherBytesOf(plain, segmentBytes) !== cipherBytes) throw format(`ciphertext of ${cipherBytes} bytes`)
  return plain
}

/** Where sealed segment `index` sits in the ciphertext, and how long it is. */
export function segmentSpan(
  index: number,
  plainBytes: number,
  segmentBytes: number,
): { offset: number; length: number; last: boolean } {
  const count = segmentCount(plainBytes, segmentBytes)
  if (!Number.isInteger(index) || index < 0 || index >= count) throw format(`segment ${index} of ${count}`)
  const last = index === count - 1
  const plain = last ? plainBytes - index * segmentBytes : segmentBytes
  return { offset: index * (segmentBytes + TAG_BYTES), length: plain + TAG_BYTES, last }
}

export function sealSegment(p: StreamParams, index: number, last: boolean, plaintext: Uint8Array): Uint8Array {
  if (plaintext.length > p.segmentBytes) throw format(`segment of ${plaintext.length} bytes > ${p.segmentBytes}`)
  if (!last && plaintext.length !== p.segmentBytes) throw format(`segment ${index} is short but not last`)
  return aesGcmEncrypt(p.key, segmentNonce(p.prefix, index, last), EMPTY, plaintext)
}

export function openSegment(p: StreamParams, index: number, last: boolean, sealed: Uint8Array): Uint8Array {
  if (sealed.length < TAG_BYTES || sealed.length > p.segmentBytes + TAG_BYTES)
    throw integrity(`segment ${index}: ${sealed.length} bytes`)
  if (!last && sealed.length !== p.segmentBytes + TAG_BYTES) throw integrity(`segment ${index} is short but not last`)
  const split = sealed.length - TAG_BYTES
  try {
    return aesGcmDecrypt(p.key, segmentNonce(p.prefix, index, last), EMPTY, sealed.subarray(0, split), sealed.subarray(split))
  } catch {
    throw integrity(`segment ${index}${last ? ' (last)' : ''} does not verify`)
  }
}

/** Joins chunks of any size into segments of exactly `size` bytes, holding back at most one segment. */
class Segmenter {
  private buf: Uint8Array
  private fill = 0
  constructor(size: number) {
    this.buf = new Uint8Array(size)
  }
  /** Calls `full` with each complete segment that is known not to be the last (more bytes follow it). */
  push(chunk: Uint8Array, full: (segment: Uint8Array) => void): void {
    let at = 0
    while (at < chunk.length) {
      if (this.fill === this.buf.length) {
        full(this.buf)
        this.fill = 0
      }
      const n = Math.min(chunk.length - at, this.buf.length - this.fill)
      this.buf.set(chunk.subarray(at, at + n), this.fill)
      this.fill += n
      at += n
    }
  }
  rest(): Uint8Array {
    return this.buf.subarray(0, this.fill)
  }
}

/**
 * Encrypts a plaintext stream: push chunks of any size, get sealed segments back; `end()` seals
 * the last one. Memory: one segment.
 */
export class StreamSealer {
  private readonly seg: Segmenter
  private index = 0
  private ended = false
  constructor(private readonly params: StreamParams) {
    checkParams(params)
    this.seg = new Segmenter(params.segmentBytes)
  }
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.ended) throw format('push after end')
    const out: Uint8Array[] = []
    this.seg.push(chunk, (s) => out.push(sealSegment(this.params, this.index++, false, s)))
    return out
  }
  end(): Uint8Array {
    if (this.ended) throw format('end called twice')
    this.ended = true
    return sealSegment(this.params, this.index++, true, this.seg.rest())
  }
  /** Segments sealed so far. */
  get segments(): number {
    return this.index
  }
}

/**
 * Decrypts a ciphertext stream of known size (the share-media message carries it): push chunks of
 * any size, get verified plaintext back one segment at a time; `end()` fails unless the whole
 * ciphertext, ending in its last segment, was seen. A segment's bytes come out only after its tag
 * verified, so nothing unverified reaches a disk.
 */
export class StreamOpener {
  private readonly seg: Segmenter
  private readonly count: number
  private index = 0
  private seen = 0
  constructor(
    private readonly params: StreamParams,
    readonly cipherBytes: number,
    /** Start at this segment (a resumed download); the pushed bytes must start at its offset. */
    firstSegment = 0,
  ) {
    checkParams(params)
    const plain = plainBytesOf(cipherBytes, params.segmentBytes)
    this.count = segmentCount(plain, params.segmentBytes)
    if (!Number.isInteger(firstSegment) || firstSegment < 0 || firstSegment >= this.count)
      throw format(`first segment ${firstSegment} of ${this.count}`)
    this.index = firstSegment
    this.seen = firstSegment * (params.segmentBytes + TAG_BYTES)
    this.seg = new Segmenter(params.segmentBytes + TAG_BYTES)
  }
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.seen + chunk.length > this.cipherBytes)
      throw integrity(`ciphertext longer than the ${this.cipherBytes} bytes announced`)
    this.seen += chunk.length
    const out: Uint8Array[] = []
    this.seg.push(chunk, (s) => {
      if (this.index >= this.count - 1) throw integrity('a segment after the last one')
      out.push(openSegment(this.params, this.index++, false, s))
    })
    return out
  }
  end(): Uint8Array {
    if (this.seen !== this.cipherBytes) throw integrity(`ciphertext truncated: ${this.seen} of ${this.cipherBytes} bytes`)
    if (this.index !== this.count - 1) throw integrity('ciphertext truncated before its last segment')
    const plain = openSegment(this.params, this.index, true, this.seg.rest())
    this.index++
    return plain
  }
  /** Segments verified so far (the resume point of a download). */
  get verified(): number {
    return this.index
  }
}

/** Whole-buffer helpers, for small files and tests. */
export function sealAll(params: StreamParams, plaintext: Uint8Array): Uint8Array {
  const s = new StreamSealer(params)
  const parts = [...s.push(plaintext), s.end()]
  return concat(parts)
}

export function openAll(params: StreamParams, ciphertext: Uint8Array): Uint8Array {
  const o = new StreamOpener(params, ciphertext.length)
  const parts = [...o.push(ciphertext), o.end()]
  return concat(parts)
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
