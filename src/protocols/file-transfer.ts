/**
 * Files of any size as DIDComm messages (docs/FILES.md). Pure: builders, parsers and the rules a
 * receiver applies to what a sender claims; the Node file I/O lives in adapters/fs.
 *
 * - `share-media` (media-sharing 1.0, registered): announces one file — name, media type, size,
 *   the whole file's SHA-256, part size and count — and asks which parts the receiver holds.
 * - `part` (file-transfer 1.0): one part, its own envelope: index, count, offset, the file's and
 *   the part's SHA-256, the bytes as a base64 attachment.
 * - `status` (file-transfer 1.0): the parts the receiver has on disk, as ranges; `complete` once
 *   the file was verified and renamed into place; `refused` when it will not take it.
 * - `file` (file-transfer 1.0): a small file whole in one message (Agent.sendFile).
 */

import { base58 } from '@scure/base'
import { b64u } from '../didcomm/b64u.js'
import { DIDCommError } from '../didcomm/errors.js'
import { createMessage } from '../didcomm/message.js'
import type { Attachment, Message } from '../didcomm/pack.js'

export const MEDIA_SHARING = 'https://didcomm.org/media-sharing/1.0'
export const FILE_TRANSFER = 'https://didcomm.org/file-transfer/1.0'
export const SHARE_MEDIA = `${MEDIA_SHARING}/share-media`
export const FILE_PART = `${FILE_TRANSFER}/part`
export const FILE_STATUS = `${FILE_TRANSFER}/status`
export const FILE_WHOLE = `${FILE_TRANSFER}/file`

/** Default part size: a few MB of transient memory per part on each side (base64, JWE, JSON). */
export const DEFAULT_PART_BYTES = 1024 * 1024
/** Largest part a receiver accepts: one part is one envelope, well under the 64 MiB envelope cap. */
export const MAX_PART_BYTES = 16 * 1024 * 1024
/** Longest file name kept (UTF-8 bytes), as most file systems allow 255. */
export const MAX_NAME_BYTES = 200

const HEX64 = /^[0-9a-f]{64}$/
const ID = /^[A-Za-z0-9_-]{8,64}$/

export interface FileOffer {
  transferId: string
  filename: string
  mediaType: string
  size: number
  /** SHA-256 of the whole file, hex; absent when the sender streams a source it cannot read twice (then the last part carries it). */
  sha256?: string
  partBytes: number
  count: number
}

export interface FilePart {
  transferId: string
  index: number
  count: number
  offset: number
  size: number
  sha256?: string
  partSha256: string
  bytes: Uint8Array
}

export interface FileStatus {
  transferId: string
  /** Indexes held, as half-open ranges [start, end). */
  held: [number, number][]
  complete: boolean
  /** Why the receiver refuses the transfer (it then holds nothing of it). */
  refused?: string
  /** Id of the message this status answers (an offer or a part). */
  answers?: string
  /** false: the receiver holds no state for this transfer (it restarted without it): offer again. */
  known?: boolean
}

function malformed(what: string): DIDCommError {
  return new DIDCommError('ERR_DIDCOMM_MALFORMED', `file transfer: ${what}`)
}

function hex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** The multihash attachment `hash` of a SHA-256 given in hex. */
function hashOfHex(h: string): string {
  return `z${base58.encode(Uint8Array.of(0x12, 0x20, ...Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16))))}`
}

function count(size: number, partBytes: number): number {
  return Math.ceil(size / partBytes)
}

/** A transfer id that stays the same for the same file, recipient and part size: what lets a restarted sender resume. */
export function transferIdFor(
  digest: (data: Uint8Array) => Uint8Array,
  o: { sha256: string; to: string; size: number; partBytes: number },
): string {
  return b64u.encode(digest(new TextEncoder().encode(`${o.sha256}|${o.to}|${o.size}|${o.partBytes}`))).slice(0, 22)
}

export function offerMessage(o: FileOffer & { description?: string }): Message {
  checkOffer(o)
  const attachment: Attachment = {
    id: 'file',
    filename: o.filename,
    media_type: o.mediaType,
    byte_count: o.size,
    // media-sharing shares by reference; here the reference is this transfer, carried as parts
    // (DIDComm wants a hash with links: a streamed file, whose hash comes with its last part, names the transfer in json)
    data: o.sha256
      ? { links: [`didcomm-transfer:${o.transferId}`], hash: hashOfHex(o.sha256) }
      : { json: { transfer: o.transferId } },
  }
  return createMessage({
    type: SHARE_MEDIA,
    thid: o.transferId,
    body: {
      ...(o.description ? { description: o.description } : {}),
      items: [
        {
          '@id': o.transferId,
          attachment_id: 'file',
          metadata: {
            transfer: FILE_TRANSFER,
            part_bytes: o.partBytes,
            part_count: o.count,
            ...(o.sha256 ? { sha256: o.sha256 } : {}),
          },
        },
      ],
    },
    attachments: [attachment],
  })
}

export function partMessage(
  o: Omit<FilePart, 'partSha256'> & { partSha256?: string },
  digest: (d: Uint8Array) => Uint8Array,
): Message {
  const partSha256 = o.partSha256 ?? hex(digest(o.bytes))
  return createMessage({
    type: FILE_PART,
    thid: o.transferId,
    body: {
      transfer_id: o.transferId,
      index: o.index,
      count: o.count,
      offset: o.offset,
      size: o.size,
      ...(o.sha256 ? { sha256: o.sha256 } : {}),
      part_sha256: partSha256,
    },
    attachments: [
      {
        id: `part-${o.index}`,
        media_type: 'application/octet-stream',
        byte_count: o.bytes.length,
        data: { base64: b64u.encode(o.bytes), hash: hashOfHex(partSha256) },
      },
    ],
  })
}

export function statusMessage(s: FileStatus): Message {
  return createMessage({
    type: FILE_STATUS,
    thid: s.transferId,
    body: {
      transfer_id: s.transferId,
      held: s.held,
      complete: s.complete,
      ...(s.refused ? { refused: s.refused } : {}),
      ...(s.answers ? { answers: s.answers } : {}),
      ...(s.known === false ? { known: false } : {}),
    },
  })
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min

function checkOffer(o: FileOffer): void {
  if (!ID.test(o.transferId)) throw malformed('transfer id must be 8–64 base64url characters')
  if (!isInt(o.size)) throw malformed('size must be a non-negative integer')
  if (!isInt(o.partBytes, 1) || o.partBytes > MAX_PART_BYTES) throw malformed(`part size must be 1…${MAX_PART_BYTES} bytes`)
  if (o.count !== count(o.size, o.partBytes)) throw malformed('part count does not match size and part size')
  if (o.sha256 !== undefined && !HEX64.test(o.sha256)) throw malformed('sha256 must be 64 hex digits')
  if (typeof o.filename !== 'string') throw malformed('filename must be a string')
}

export function parseOffer(m: Message): FileOffer {
  if (m.type !== SHARE_MEDIA) throw malformed(`not a ${SHARE_MEDIA}`)
  const items = m.body?.items
  if (!Array.isArray(items) || items.length !== 1) throw malformed('share-media must have exactly one item')
  const item = items[0] as { '@id'?: unknown; attachment_id?: unknown; metadata?: Record<string, unknown> }
  const a = (m.attachments ?? []).find((x) => x.id === item.attachment_id)
  if (!a) throw malformed('the item names no attachment of the message')
  const md = item.metadata ?? {}
  if (md.transfer !== FILE_TRANSFER) throw malformed('the item is not carried as file-transfer parts')
  const offer: FileOffer = {
    transferId: String(item['@id']),
    filename: typeof a.filename === 'string' ? a.filename : '',
    mediaType: typeof a.media_type === 'string' ? a.media_type : 'application/octet-stream',
    size: a.byte_count as number,
    sha256: md.sha256 === undefined ? undefined : String(md.sha256),
    partBytes: md.part_bytes as number,
    count: md.part_count as number,
  }
  checkOffer(offer)
  if (offer.sha256 && a.data.hash !== undefined && a.data.hash !== hashOfHex(offer.sha256))
    throw malformed('attachment hash and sha256 differ')
  return offer
}

/** A part, its bytes checked against its own SHA-256 (`digest` is the caller's SHA-256). */
export function parsePart(m: Message, digest: (d: Uint8Array) => Uint8Array): FilePart {
  if (m.type !== FILE_PART) throw malformed(`not a ${FILE_PART}`)
  const b = m.body ?? {}
  const a = m.attachments?.[0]
  if (!a || typeof a.data.base64 !== 'string') throw malformed('a part carries its bytes as one base64 attachment')
  const part = {
    transferId: String(b.transfer_id),
    index: b.index as number,
    count: b.count as number,
    offset: b.offset as number,
    size: b.size as number,
    sha256: b.sha256 === undefined ? undefined : String(b.sha256),
    partSha256: String(b.part_sha256),
  }
  if (!ID.test(part.transferId)) throw malformed('bad transfer id')
  if (!isInt(part.index) || !isInt(part.count, 1) || part.index >= part.count) throw malformed('bad part index or count')
  if (!isInt(part.offset) || !isInt(part.size)) throw malformed('bad offset or size')
  if (!HEX64.test(part.partSha256) || (part.sha256 !== undefined && !HEX64.test(part.sha256))) throw malformed('bad hash')
  let bytes: Uint8Array
  try {
    bytes = b64u.decode(a.data.base64)
  } catch {
    throw malformed('part bytes are not base64url')
  }
  if (part.offset + bytes.length > part.size) throw malformed('part goes past the end of the file')
  if (hex(digest(bytes)) !== part.partSha256)
    throw new DIDCommError('ERR_DIDCOMM_MALFORMED', `file transfer: part ${part.index} does not match its SHA-256`)
  return { ...part, bytes }
}

export function parseStatus(m: Message): FileStatus {
  if (m.type !== FILE_STATUS) throw malformed(`not a ${FILE_STATUS}`)
  const b = m.body ?? {}
  const held = b.held
  if (!Array.isArray(held) || !held.every((r) => Array.isArray(r) && r.length === 2 && isInt(r[0]) && isInt(r[1]) && r[0] < r[1]))
    throw malformed('held must be a list of [start, end) ranges')
  return {
    transferId: String(b.transfer_id),
    held: held as [number, number][],
    complete: b.complete === true,
    ...(typeof b.refused === 'string' ? { refused: b.refused } : {}),
    ...(typeof b.answers === 'string' ? { answers: b.answers } : {}),
    ...(b.known === false ? { known: false } : {}),
  }
}

/** Sorted indexes → half-open ranges. */
export function toRanges(indexes: Iterable<number>): [number, number][] {
  const sorted = [...indexes].sort((a, b) => a - b)
  const out: [number, number][] = []
  for (const i of sorted) {
    const last = out[out.length - 1]
    if (last && last[1] === i) last[1] = i + 1
    else if (!last || last[1] < i) out.push([i, i + 1])
  }
  return out
}

export function fromRanges(ranges: [number, number][], limit: number): Set<number> {
  const out = new Set<number>()
  for (const [s, e] of ranges) for (let i = s; i < Math.min(e, limit); i++) out.add(i)
  return out
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i
// C0, DEL, C1 controls; bidi overrides and zero-width marks that disguise an extension
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g
const SEPARATORS_AND_RESERVED = /[/\\:*?"<>|]/g

/**
 * A name from the wire made safe for a folder on any OS: the last path segment only, no control or
 * direction-changing characters, no characters Windows refuses (incl. drive colons), no leading
 * dots or trailing dots/spaces, not a reserved device name, at most MAX_NAME_BYTES of UTF-8
 * (the extension kept). Nothing usable left → `fallback`.
 */
export function safeFilename(name: unknown, fallback = 'file'): string {
  let s = typeof name === 'string' ? name.normalize('NFC') : ''
  s = s.replace(UNSAFE_CHARS, '')
  const segments = s.split(/[/\\]/)
  s = segments[segments.length - 1] ?? ''
  s = s.replace(SEPARATORS_AND_RESERVED, '_')
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '')
  if (s === '') return fallback
  const dot = s.lastIndexOf('.')
  const stem = dot > 0 ? s.slice(0, dot) : s
  if (WINDOWS_RESERVED.test(stem)) s = `_${s}`
  return truncateUtf8(s, MAX_NAME_BYTES)
}

function truncateUtf8(s: string, max: number): string {
  const enc = new TextEncoder()
  if (enc.encode(s).length <= max) return s
  const dot = s.lastIndexOf('.')
  const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : ''
  let stem = ext ? s.slice(0, dot) : s
  while (enc.encode(stem + ext).length > max) stem = [...stem].slice(0, -1).join('')
  return stem + ext
}

/** `report.pdf` → `report (n).pdf`: the name a second file of the same name gets. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  return truncateUtf8(`${stem} (${n})${ext}`, MAX_NAME_BYTES + 8)
}

export { hex as hexOf }
