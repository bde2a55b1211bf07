/**
 * A piece of an encrypted blob as it crosses a Link (docs/FILES.md "Blobs over a Link"): one wire
 * transfer of media type `application/vnd.didcomm-carrier.blob`, a 37-byte header, then whole
 * sealed segments as they sit in the ciphertext. Nothing here is authenticated: a receiver takes a
 * chunk only for a blob an authcrypt share-media told it about, and releases a segment's bytes
 * only once its GCM tag verifies with that share's key.
 *
 *   byte 0      version (1)
 *   bytes 1–32  SHA-256 of the whole ciphertext (names the blob, as the share's attachment hash)
 *   bytes 33–36 index of the first segment, uint32 big-endian
 *   bytes 37–   sealed segments first, first+1, … (each segment_size + 16 bytes, the last shorter)
 */

import { FileCipherError, segmentCount, segmentSpan, TAG_BYTES } from './stream-aead.js'

export const MEDIA_BLOB = 'application/vnd.didcomm-carrier.blob'
export const BLOB_CHUNK_VERSION = 1
export const BLOB_CHUNK_HEADER = 37

export interface BlobChunk {
  /** SHA-256 of the blob's ciphertext, hex. */
  blob: string
  firstSegment: number
  /** The sealed segments, back to back (a view into the chunk). */
  sealed: Uint8Array
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16))

/** A chunk buffer with its header written and room for `sealedBytes` after it. */
export function newChunk(blobSha256Hex: string, firstSegment: number, sealedBytes: number): Uint8Array {
  return writeChunkHeader(new Uint8Array(BLOB_CHUNK_HEADER + sealedBytes), blobSha256Hex, firstSegment)
}

/** Writes a chunk's header at the start of `out` (a buffer of header + sealed segments); returns `out`. */
export function writeChunkHeader(out: Uint8Array, blobSha256Hex: string, firstSegment: number): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(blobSha256Hex)) throw new FileCipherError('ERR_FILE_FORMAT', 'blob id must be 64 hex digits')
  out[0] = BLOB_CHUNK_VERSION
  out.set(fromHex(blobSha256Hex), 1)
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(33, firstSegment)
  return out
}

export function parseChunk(data: Uint8Array): BlobChunk {
  if (data.length < BLOB_CHUNK_HEADER + TAG_BYTES || data[0] !== BLOB_CHUNK_VERSION)
    throw new FileCipherError('ERR_FILE_FORMAT', `not a blob chunk (version ${data[0]}, ${data.length} bytes)`)
  return {
    blob: toHex(data.subarray(1, 33)),
    firstSegment: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(33),
    sealed: data.subarray(BLOB_CHUNK_HEADER),
  }
}

/**
 * The segments [first, end) a chunk of `sealedBytes` covers in a blob of `plainBytes`, when it
 * holds whole segments only; ERR_FILE_INTEGRITY when it ends inside one or goes past the last.
 */
export function chunkSegments(firstSegment: number, sealedBytes: number, plainBytes: number, segmentBytes: number): number {
  const count = segmentCount(plainBytes, segmentBytes)
  if (firstSegment >= count)
    throw new FileCipherError('ERR_FILE_INTEGRITY', `chunk starts at segment ${firstSegment} of ${count}`)
  let end = firstSegment
  let rest = sealedBytes
  while (rest > 0) {
    if (end >= count) throw new FileCipherError('ERR_FILE_INTEGRITY', 'chunk extends past the last segment')
    const { length } = segmentSpan(end, plainBytes, segmentBytes)
    if (rest < length) throw new FileCipherError('ERR_FILE_INTEGRITY', `chunk ends inside segment ${end} (truncated)`)
    rest -= length
    end++
  }
  return end
}
