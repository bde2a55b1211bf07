/**
 * blob-access 1.0 (this toolkit's own protocol; docs/FILES.md "Blobs at the mediator"): a client
 * asks the mediator, authcrypt, for a short-lived bearer token to upload a blob for named
 * recipients (`put`) or to download and confirm one it was named for (`get`). The mediator answers
 * `grant` with the token and the blob's URL, or a problem report. Pure: builders and parsers.
 */

import { DIDCommError } from '../didcomm/errors.js'
import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'

export const BLOB_ACCESS = 'https://github.com/didcomm-carrier/didcomm-carrier/blob-access/1.0'
export const BLOB_ACCESS_REQUEST = `${BLOB_ACCESS}/request`
export const BLOB_ACCESS_GRANT = `${BLOB_ACCESS}/grant`

export interface BlobAccessRequest {
  op: 'put' | 'get'
  /** SHA-256 of the blob, 64 hex. */
  hash: string
  /** put: the blob's size in bytes. */
  size?: number
  /** put: the DIDs (mediated here) that may download it. */
  recipients?: string[]
}

export interface BlobAccessGrant {
  token: string
  /** Where the blob is served (PUT/HEAD/GET/DELETE with the token). */
  url: string
  /** Unix seconds after which the token is refused. */
  expiresTime: number
}

const malformed = (what: string) => new DIDCommError('ERR_DIDCOMM_MALFORMED', `blob-access: ${what}`)

export function blobAccessRequest(r: BlobAccessRequest): Message {
  return createMessage({
    type: BLOB_ACCESS_REQUEST,
    body: {
      op: r.op,
      hash: r.hash,
      ...(r.size !== undefined ? { size: r.size } : {}),
      ...(r.recipients ? { recipients: r.recipients } : {}),
    },
  })
}

export function parseBlobAccessRequest(m: Message): BlobAccessRequest {
  const b = m.body ?? {}
  if (b.op !== 'put' && b.op !== 'get') throw malformed('op must be put or get')
  if (typeof b.hash !== 'string' || !/^[0-9a-f]{64}$/.test(b.hash)) throw malformed('hash must be 64 lowercase hex digits')
  if (b.op === 'get') return { op: 'get', hash: b.hash }
  if (!Number.isSafeInteger(b.size) || (b.size as number) < 0) throw malformed('put needs the size in bytes')
  const recipients = b.recipients
  if (!Array.isArray(recipients) || recipients.length === 0 || !recipients.every((r) => typeof r === 'string' && r !== ''))
    throw malformed('put needs the recipients (DIDs)')
  return { op: 'put', hash: b.hash, size: b.size as number, recipients: recipients as string[] }
}

export function blobAccessGrant(request: Message, g: BlobAccessGrant): Message {
  return createMessage({
    type: BLOB_ACCESS_GRANT,
    thid: request.thid ?? request.id,
    body: { token: g.token, url: g.url, expires_time: g.expiresTime },
  })
}

export function parseBlobAccessGrant(m: Message): BlobAccessGrant {
  if (m.type !== BLOB_ACCESS_GRANT) throw malformed(`expected a grant, got ${m.type}`)
  const b = m.body ?? {}
  if (typeof b.token !== 'string' || typeof b.url !== 'string' || typeof b.expires_time !== 'number')
    throw malformed('a grant has token, url and expires_time')
  return { token: b.token, url: b.url, expiresTime: b.expires_time }
}
