import { IntegrityError, MessageTooLargeError, RejectedError } from '../transport.js'
import { concatBytes, readVarint, utf8, varintLength, writeVarint } from './bytes.js'
import { deflateRaw, inflateRaw } from './compress.js'
import { createDigest, type DigestKind, digestLength, equalBytes, sha256 } from './digest.js'
import { FLAG_COMPRESSED, FLAG_INTACT, FLAG_MEDIA_MASK } from './frame.js'
import { isJsonLike, MEDIA_CODE_CUSTOM, mediaCode, mediaFromCode, sniffMediaType } from './media.js'
import { xxh64, xxh64Ready } from './xxh64.js'

/**
 * The bytes a transfer moves (the "stream"), the same for reliable and fountain sessions:
 *
 *   [varint length + UTF-8 media type, only when it is not one of DIDComm's three]
 *   [the envelope, deflate-raw compressed when flagged]
 *   [SHA-256 of everything before it; XXH64 (8 bytes) when flagged FLAG_INTACT]
 *
 * The trailing digest lets the receiver verify before it delivers (never a wrong message) and is
 * what the reliable receiver echoes in its final ack.
 */

/** The digest a stream with these flags ends with. */
export function streamDigest(flags: number): DigestKind {
  return flags & FLAG_INTACT ? 'xxh64' : 'sha256'
}

/**
 * A stream kept as its parts (media-type prefix, body, digest) — never copied whole — whose digest
 * is computed as bytes are first needed: a sender hashes each segment when it first sends it, so
 * hashing overlaps the wait for the network instead of delaying START.
 */
export class PreparedStream {
  private readonly hasher
  private hashed = 0
  private sealed: Uint8Array | undefined
  readonly length: number
  readonly contentLength: number

  constructor(
    private readonly prefix: Uint8Array,
    private readonly body: Uint8Array,
    readonly flags: number,
    readonly mediaType: string,
    readonly compressed: boolean,
    readonly envelopeBytes: number,
  ) {
    const kind = streamDigest(flags)
    this.hasher = createDigest(kind)
    this.contentLength = prefix.length + body.length
    this.length = this.contentLength + digestLength(kind)
  }

  /** Bytes [from, to) of the stream: a view when they lie in one part, else a copy. */
  slice(from: number, to: number): Uint8Array {
    this.ensure(to)
    const parts = [this.prefix, this.body, this.sealed ?? NO_BYTES]
    let offset = 0
    const pieces: Uint8Array[] = []
    for (const p of parts) {
      const a = Math.max(from, offset)
      const b = Math.min(to, offset + p.length)
      if (a < b) pieces.push(p.subarray(a - offset, b - offset))
      offset += p.length
    }
    return pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(pieces)
  }

  /** Hashes up to `end`, and computes the digest once `end` reaches into it. */
  ensure(end: number): void {
    const upTo = Math.min(end, this.contentLength)
    if (upTo > this.hashed) {
      const p = this.prefix.length
      if (this.hashed < p) this.hasher.update(this.prefix.subarray(this.hashed, Math.min(p, upTo)))
      if (upTo > p) this.hasher.update(this.body.subarray(Math.max(0, this.hashed - p), upTo - p))
      this.hashed = upTo
    }
    if (end > this.contentLength && !this.sealed) this.sealed = this.hasher.digest()
  }

  get digest(): Uint8Array {
    this.ensure(this.length)
    return this.sealed as Uint8Array
  }
}

const MAX_MEDIA_TYPE_BYTES = 255
const NO_BYTES = new Uint8Array(0)
const AUTO_COMPRESS_MIN = 256

export async function prepareStream(
  envelope: Uint8Array | string,
  options: {
    mediaType?: string
    compress?: boolean | 'auto'
    maxMessageBytes: number
    /** The link delivers frames intact (Link.intact): flag FLAG_INTACT, end with XXH64. */
    intact?: boolean
  },
): Promise<PreparedStream> {
  const bytes = typeof envelope === 'string' ? utf8.encode(envelope) : envelope
  if (bytes.length > options.maxMessageBytes) {
    throw new MessageTooLargeError(`message of ${bytes.length} bytes exceeds the ${options.maxMessageBytes}-byte limit`)
  }
  const mediaType = options.mediaType ?? sniffMediaType(bytes)
  const code = mediaCode(mediaType)
  const prefix = code === MEDIA_CODE_CUSTOM ? encodeMediaPrefix(mediaType) : new Uint8Array(0)

  const compress = options.compress ?? 'auto'
  let body = bytes
  let compressed = false
  if (compress === true || (compress === 'auto' && isJsonLike(mediaType) && bytes.length >= AUTO_COMPRESS_MIN)) {
    const deflated = await deflateRaw(bytes)
    if (compress === true || deflated.length < bytes.length) {
      body = deflated
      compressed = true
    }
  }
  const flags = code | (compressed ? FLAG_COMPRESSED : 0) | (options.intact ? FLAG_INTACT : 0)
  if (options.intact) await xxh64Ready()
  return new PreparedStream(prefix, body, flags, mediaType, compressed, bytes.length)
}

function encodeMediaPrefix(mediaType: string): Uint8Array {
  const m = utf8.encode(mediaType)
  if (m.length > MAX_MEDIA_TYPE_BYTES) throw new RejectedError(`media type longer than ${MAX_MEDIA_TYPE_BYTES} bytes`)
  const out = new Uint8Array(varintLength(m.length) + m.length)
  out.set(m, writeVarint(out, 0, m.length))
  return out
}

/**
 * Verifies and unwraps a reassembled stream; `contentDigest` is the SHA-256 of its content when the
 * receiver already hashed it while it arrived. Throws IntegrityError, MessageTooLargeError.
 */
export async function openStream(
  stream: Uint8Array,
  flags: number,
  maxMessageBytes: number,
  contentDigest?: Uint8Array,
): Promise<{ data: Uint8Array; mediaType: string; digest: Uint8Array }> {
  const kind = streamDigest(flags)
  const n = digestLength(kind)
  if (stream.length < n) throw new IntegrityError('stream shorter than its digest')
  const content = stream.subarray(0, stream.length - n)
  if (kind === 'xxh64' && !contentDigest) await xxh64Ready()
  const digest = contentDigest ?? (kind === 'xxh64' ? xxh64(content) : await sha256(content))
  if (!equalBytes(digest, stream.subarray(stream.length - n))) {
    throw new IntegrityError(`${kind === 'xxh64' ? 'XXH64' : 'SHA-256'} of the reassembled message does not match`)
  }
  let offset = 0
  let mediaType = mediaFromCode(flags & FLAG_MEDIA_MASK)
  if (mediaType === undefined) {
    const len = readVarint(content, 0)
    if (!len || len[0] > MAX_MEDIA_TYPE_BYTES || len[1] + len[0] > content.length) {
      throw new IntegrityError('malformed media type')
    }
    try {
      mediaType = utf8.decode(content.subarray(len[1], len[1] + len[0]))
    } catch {
      throw new IntegrityError('media type is not UTF-8')
    }
    offset = len[1] + len[0]
  }
  let data = content.subarray(offset)
  if (flags & FLAG_COMPRESSED) {
    try {
      data = await inflateRaw(data, maxMessageBytes)
    } catch (err) {
      if (err instanceof MessageTooLargeError) throw err
      throw new IntegrityError('compressed message does not inflate')
    }
  } else if (data.length > maxMessageBytes) {
    throw new MessageTooLargeError(`message of ${data.length} bytes exceeds the ${maxMessageBytes}-byte limit`)
  }
  return { data, mediaType, digest }
}
