import { base58 } from '@scure/base'
import { randomUUID } from '../random-uuid.js'
import { b64u } from './b64u.js'
import { err } from './errors.js'
import { sha256 } from './native.js'
import type { Attachment, Message } from './pack.js'

/** A plaintext message with an id, created_time and, if asked, expires_time. */
export function createMessage(o: {
  type: string
  body?: Record<string, unknown>
  from?: string
  to?: string[]
  thid?: string
  expiresInSeconds?: number
  attachments?: Attachment[]
  now?: number
}): Message {
  const created = o.now ?? Math.floor(Date.now() / 1000)
  return {
    id: randomUUID(),
    type: o.type,
    ...(o.from ? { from: o.from } : {}),
    ...(o.to ? { to: o.to } : {}),
    ...(o.thid ? { thid: o.thid } : {}),
    created_time: created,
    ...(o.expiresInSeconds !== undefined ? { expires_time: created + o.expiresInSeconds } : {}),
    body: o.body ?? {},
    ...(o.attachments ? { attachments: o.attachments } : {}),
  }
}

/** Multihash (sha2-256) of the content, multibase base58btc: the attachment `hash`. */
export function contentHash(bytes: Uint8Array): string {
  return `z${base58.encode(Uint8Array.of(0x12, 0x20, ...sha256(bytes)))}`
}

type AttachmentInfo = { id?: string; mediaType?: string; filename?: string; description?: string }

function meta(o: AttachmentInfo, byteCount?: number): Omit<Attachment, 'data'> {
  return {
    id: o.id ?? randomUUID(),
    ...(o.description ? { description: o.description } : {}),
    ...(o.filename ? { filename: o.filename } : {}),
    ...(o.mediaType ? { media_type: o.mediaType } : {}),
    ...(byteCount !== undefined ? { byte_count: byteCount } : {}),
  }
}

export function base64Attachment(bytes: Uint8Array, o: AttachmentInfo = {}): Attachment {
  return { ...meta(o, bytes.length), data: { base64: b64u.encode(bytes), hash: contentHash(bytes) } }
}

export function jsonAttachment(value: unknown, o: AttachmentInfo = {}): Attachment {
  return { ...meta({ mediaType: 'application/json', ...o }), data: { json: value } }
}

/** Content kept elsewhere: the links and the hash the receiver checks after fetching. */
export function linksAttachment(links: string[], content: Uint8Array, o: AttachmentInfo = {}): Attachment {
  return { ...meta(o, content.length), data: { links, hash: contentHash(content) } }
}

/** The bytes of a base64 attachment, checked against its hash and byte_count when present. */
export function attachmentBytes(a: Attachment): Uint8Array {
  if (typeof a.data.base64 !== 'string') throw err.malformed('attachment has no base64 data')
  const bytes = b64u.decode(a.data.base64)
  if (a.byte_count !== undefined && a.byte_count !== bytes.length) throw err.malformed('attachment byte_count does not match')
  if (a.data.hash !== undefined && a.data.hash !== contentHash(bytes))
    throw err.malformed('attachment hash does not match its content')
  return bytes
}
