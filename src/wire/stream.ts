import { IntegrityError, MessageTooLargeError, RejectedError } from '../transport.js'
import { readVarint, utf8, varintLength, writeVarint } from './bytes.js'
import { deflateRaw, inflateRaw } from './compress.js'
import { equalBytes, sha256 } from './digest.js'
import { DIGEST_BYTES, FLAG_COMPRESSED, FLAG_MEDIA_MASK } from './frame.js'
import { isJsonLike, MEDIA_CODE_CUSTOM, mediaCode, mediaFromCode, sniffMediaType } from './media.js'

/**
 * The bytes a transfer moves (the "stream"), the same for reliable and fountain sessions:
 *
 *   [varint length + UTF-8 media type, only when it is not one of DIDComm's three]
 *   [the envelope, deflate-raw compressed when flagged]
 *   [SHA-256 of everything before it]
 *
 * The trailing digest lets the receiver verify before it delivers (never a wrong message) and is
 * what the reliable receiver echoes in its final ack.
 */
export interface PreparedStream {
  stream: Uint8Array
  flags: number
  mediaType: string
  compressed: boolean
  envelopeBytes: number
  digest: Uint8Array
}

const MAX_MEDIA_TYPE_BYTES = 255
const AUTO_COMPRESS_MIN = 256

export async function prepareStream(
  envelope: Uint8Array | string,
  options: { mediaType?: string; compress?: boolean | 'auto'; maxMessageBytes: number },
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
  const stream = new Uint8Array(prefix.length + body.length + DIGEST_BYTES)
  stream.set(prefix, 0)
  stream.set(body, prefix.length)
  const digest = await sha256(stream.subarray(0, stream.length - DIGEST_BYTES))
  stream.set(digest, stream.length - DIGEST_BYTES)
  const flags = code | (compressed ? FLAG_COMPRESSED : 0)
  return { stream, flags, mediaType, compressed, envelopeBytes: bytes.length, digest }
}

function encodeMediaPrefix(mediaType: string): Uint8Array {
  const m = utf8.encode(mediaType)
  if (m.length > MAX_MEDIA_TYPE_BYTES) throw new RejectedError(`media type longer than ${MAX_MEDIA_TYPE_BYTES} bytes`)
  const out = new Uint8Array(varintLength(m.length) + m.length)
  out.set(m, writeVarint(out, 0, m.length))
  return out
}

/** Verifies and unwraps a reassembled stream. Throws IntegrityError, MessageTooLargeError. */
export async function openStream(
  stream: Uint8Array,
  flags: number,
  maxMessageBytes: number,
): Promise<{ data: Uint8Array; mediaType: string; digest: Uint8Array }> {
  if (stream.length < DIGEST_BYTES) throw new IntegrityError('stream shorter than its digest')
  const content = stream.subarray(0, stream.length - DIGEST_BYTES)
  const digest = await sha256(content)
  if (!equalBytes(digest, stream.subarray(stream.length - DIGEST_BYTES))) {
    throw new IntegrityError('SHA-256 of the reassembled message does not match')
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
