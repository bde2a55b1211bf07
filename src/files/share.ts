/**
 * The one small message that hands over an encrypted blob: media-sharing 1.0 `share-media` with its
 * `ciphering` (docs/FILES.md "Encrypted blob format, version 1"). It carries the content key, the
 * format's parameters, both sizes, the plaintext's and the ciphertext's SHA-256 and where the
 * ciphertext is. It must travel authcrypt: the key never leaves it.
 */

import { base58 } from '@scure/base'
import { DIDCommError } from '../didcomm/errors.js'
import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'
import { SHARE_MEDIA } from '../protocols/file-transfer.js'
import { checkParams, cipherBytesOf, STREAM_ALGORITHM, STREAM_VERSION, type StreamParams } from './stream-aead.js'

export interface EncryptedShare {
  /** The item's id; also the thread of whatever follows (confirmation, blob requests). */
  id: string
  filename: string
  mediaType: string
  plainBytes: number
  /** SHA-256 of the plaintext, hex: checked once the whole file is decrypted. */
  plainSha256: string
  cipherBytes: number
  /** SHA-256 of the ciphertext, hex: the blob's name at a blob store. */
  cipherSha256: string
  params: StreamParams
  /** Where the ciphertext can be fetched: an http(s) blob URL, or `didcomm-transfer:<id>` for bytes that follow over the same link. */
  links: string[]
  description?: string
}

const HEX64 = /^[0-9a-f]{64}$/
const ID = /^[A-Za-z0-9_-]{8,64}$/
const ATTACHMENT = 'blob'

const malformed = (what: string) => new DIDCommError('ERR_DIDCOMM_MALFORMED', `share-media: ${what}`)

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
function fromHex(s: unknown, bytes: number, what: string): Uint8Array {
  if (typeof s !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(s))
    throw malformed(`${what} must be ${bytes * 2} hex digits`)
  return Uint8Array.from(s.match(/../g) ?? [], (x) => Number.parseInt(x, 16))
}

/** The attachment `hash`: a base58btc multihash of SHA-256, as DIDComm attachments carry it. */
export function multihashOfHex(h: string): string {
  return `z${base58.encode(Uint8Array.of(0x12, 0x20, ...fromHex(h, 32, 'hash')))}`
}

function check(s: EncryptedShare): void {
  if (!ID.test(s.id)) throw malformed('id must be 8–64 base64url characters')
  if (typeof s.filename !== 'string' || typeof s.mediaType !== 'string') throw malformed('filename and media type are strings')
  if (!HEX64.test(s.plainSha256) || !HEX64.test(s.cipherSha256)) throw malformed('hashes must be 64 hex digits')
  if (!Number.isSafeInteger(s.plainBytes) || s.plainBytes < 0) throw malformed('bad plaintext size')
  try {
    checkParams(s.params)
  } catch (e) {
    throw malformed((e as Error).message)
  }
  if (s.cipherBytes !== cipherBytesOf(s.plainBytes, s.params.segmentBytes))
    throw malformed('ciphertext size does not match plaintext size and segment size')
  if (!Array.isArray(s.links) || s.links.length === 0 || !s.links.every((l) => typeof l === 'string' && l.length <= 2048))
    throw malformed('at least one link to the ciphertext')
}

export function shareMessage(s: EncryptedShare): Message {
  check(s)
  return createMessage({
    type: SHARE_MEDIA,
    thid: s.id,
    body: {
      ...(s.description ? { description: s.description } : {}),
      items: [
        {
          '@id': s.id,
          attachment_id: ATTACHMENT,
          ciphering: {
            algorithm: STREAM_ALGORITHM,
            parameters: {
              key: toHex(s.params.key),
              iv: toHex(s.params.prefix),
              segment_size: s.params.segmentBytes,
              version: STREAM_VERSION,
            },
          },
          metadata: { size: s.plainBytes, sha256: s.plainSha256 },
        },
      ],
    },
    attachments: [
      {
        id: ATTACHMENT,
        filename: s.filename,
        media_type: s.mediaType,
        byte_count: s.cipherBytes,
        data: { links: s.links, hash: multihashOfHex(s.cipherSha256) },
      },
    ],
  })
}

/** A share-media whose item is encrypted in this format (others — inline parts, other ciphers — are not). */
export function isEncryptedShare(m: Message): boolean {
  const item = (m.body?.items as { ciphering?: { algorithm?: unknown } }[] | undefined)?.[0]
  return m.type === SHARE_MEDIA && item?.ciphering?.algorithm === STREAM_ALGORITHM
}

export function parseShare(m: Message): EncryptedShare {
  if (!isEncryptedShare(m)) throw malformed(`not a ${SHARE_MEDIA} encrypted as ${STREAM_ALGORITHM}`)
  const items = m.body?.items as Record<string, unknown>[]
  if (items.length !== 1) throw malformed('exactly one item')
  const item = items[0] as {
    '@id'?: unknown
    attachment_id?: unknown
    ciphering: { parameters?: Record<string, unknown> }
    metadata?: Record<string, unknown>
  }
  const p = item.ciphering.parameters ?? {}
  if (p.version !== STREAM_VERSION) throw malformed(`format version ${String(p.version)} (this reads ${STREAM_VERSION})`)
  const a = (m.attachments ?? []).find((x) => x.id === item.attachment_id)
  if (!a) throw malformed('the item names no attachment of the message')
  const hash = a.data?.hash
  const cipherSha256 = typeof hash === 'string' ? multihashHex(hash) : ''
  const share: EncryptedShare = {
    id: String(item['@id']),
    filename: typeof a.filename === 'string' ? a.filename : '',
    mediaType: typeof a.media_type === 'string' ? a.media_type : 'application/octet-stream',
    plainBytes: item.metadata?.size as number,
    plainSha256: String(item.metadata?.sha256),
    cipherBytes: a.byte_count as number,
    cipherSha256,
    params: { key: fromHex(p.key, 32, 'key'), prefix: fromHex(p.iv, 7, 'iv'), segmentBytes: p.segment_size as number },
    links: (a.data?.links ?? []) as string[],
    ...(typeof m.body?.description === 'string' ? { description: m.body.description } : {}),
  }
  check(share)
  return share
}

function multihashHex(h: string): string {
  try {
    if (!h.startsWith('z')) throw new Error('not base58btc')
    const b = base58.decode(h.slice(1))
    if (b.length !== 34 || b[0] !== 0x12 || b[1] !== 0x20) throw new Error('not a SHA-256 multihash')
    return toHex(b.subarray(2))
  } catch (e) {
    throw malformed(`attachment hash: ${(e as Error).message}`)
  }
}
