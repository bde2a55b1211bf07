import { createCipheriv, createDecipheriv } from 'node:crypto'
import { FileCipherError, type StreamParams, segmentNonce, TAG_BYTES } from '../../src/files/stream-aead.js'

/**
 * Format 1's segment seal and open (src/files/stream-aead.ts) with node:crypto straight into the
 * caller's buffers: one allocation per segment instead of three, which is what a GiB of segments
 * costs in garbage (and so in peak RSS). Byte for byte the same format: the tests open what
 * sealInto writes with stream-aead's own openSegment, and the reverse.
 */

/** Seals `plain` as segment `index` into `out` at `at` (ciphertext then tag); returns the bytes written. */
export function sealInto(p: StreamParams, index: number, last: boolean, plain: Uint8Array, out: Uint8Array, at: number): number {
  const c = createCipheriv('aes-256-gcm', p.key, segmentNonce(p.prefix, index, last))
  const ct = c.update(plain)
  out.set(ct, at)
  const fin = c.final()
  if (fin.length) out.set(fin, at + ct.length)
  out.set(c.getAuthTag(), at + plain.length)
  return plain.length + TAG_BYTES
}

/** Opens sealed segment `index`; ERR_FILE_INTEGRITY when its tag does not verify (nothing is returned then). */
export function openSealed(p: StreamParams, index: number, last: boolean, sealed: Uint8Array): Uint8Array {
  if (
    sealed.length < TAG_BYTES ||
    sealed.length > p.segmentBytes + TAG_BYTES ||
    (!last && sealed.length !== p.segmentBytes + TAG_BYTES)
  )
    throw new FileCipherError('ERR_FILE_INTEGRITY', `segment ${index}: ${sealed.length} bytes`)
  const split = sealed.length - TAG_BYTES
  try {
    const d = createDecipheriv('aes-256-gcm', p.key, segmentNonce(p.prefix, index, last))
    d.setAuthTag(sealed.subarray(split))
    const plain = d.update(sealed.subarray(0, split))
    d.final()
    return plain
  } catch {
    throw new FileCipherError('ERR_FILE_INTEGRITY', `segment ${index}${last ? ' (last)' : ''} does not verify`)
  }
}
