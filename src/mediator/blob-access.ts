import type { AgentMessage } from '../agent.js'
import { didOf } from '../did/document.js'
import type { Message } from '../didcomm/pack.js'
import { blobAccessGrant, parseBlobAccessRequest } from '../protocols/blob-access.js'
import { type BlobStore, MAX_BLOB_RECIPIENTS } from './blob-store.js'
import type { BlobTokens } from './blob-tokens.js'
import type { MessageStore } from './store.js'

export interface MediatorBlobs {
  store: BlobStore
  tokens: BlobTokens
  /** The blob's URL at this mediator (its public HTTP endpoint + `blobs/<hash>`). */
  urlOf(hash: string): string
  limits?: BlobAccessLimits
}

export interface BlobAccessLimits {
  /** Largest blob taken, in bytes. Default 1 GiB. */
  maxBlobBytes?: number
  /** Most bytes of blobs waiting for one recipient. Default 2 GiB. */
  maxBytesPerRecipient?: number
  /** How long a blob waits for its recipients, in seconds. Default 7 days. */
  expirySeconds?: number
  /** How long a token is accepted, in seconds. Default 600. */
  tokenSeconds?: number
}

/** Longest token issued: it must fit in an Authorization header (Node's default limit for all headers is 16 KiB). */
const MAX_HEADER_TOKEN = 12 * 1024

export const BLOB_DEFAULTS = {
  maxBlobBytes: 1 << 30,
  maxBytesPerRecipient: 2 ** 31,
  expirySeconds: 7 * 24 * 3600,
  tokenSeconds: 600,
} as const

export function blobLimits(l?: BlobAccessLimits): Required<BlobAccessLimits> {
  return { ...BLOB_DEFAULTS, ...l }
}

/** Why a request gets no token: the mediator's refuse() turns it into a problem report. */
export interface BlobRefusal {
  code: string
  problem: string
  comment: string
}

const refusal = (code: string, problem: string, comment: string) => ({ refusal: { code, problem, comment } })

/**
 * Answers a blob-access request the mediator opened. The requester is the DID authcrypt proved
 * (`from`); a put names recipients that are registered here (each stands for its mediated client,
 * who is the one allowed to download) and fits the size limit and each recipient's quota; a get
 * comes from a client the blob names. Resolves to the grant to send back, or a refusal.
 */
export async function answerBlobAccess(
  m: AgentMessage,
  queue: MessageStore,
  b: MediatorBlobs,
): Promise<{ grant: Message } | { refusal: BlobRefusal }> {
  const from = m.metadata.authenticated && m.message.from ? didOf(m.message.from) : undefined
  if (!from) return refusal('ERR_NOT_GRANTED', 'e.p.req.not-authenticated', 'ask for blob access authcrypted')
  const limits = blobLimits(b.limits)
  let r: ReturnType<typeof parseBlobAccessRequest>
  try {
    r = parseBlobAccessRequest(m.message)
  } catch (err) {
    return refusal('ERR_DIDCOMM_MALFORMED', 'e.p.msg.malformed', (err as Error).message)
  }
  const now = Date.now()
  const exp = now + limits.tokenSeconds * 1000
  const grant = (token: string) => ({
    grant: blobAccessGrant(m.message, { token, url: b.urlOf(r.hash), expiresTime: Math.floor(exp / 1000) }),
  })
  if (r.op === 'get') {
    const info = await b.store.info(r.hash)
    if (!info) return refusal('ERR_BLOB_NOT_FOUND', 'e.p.req.unknown-blob', `no blob ${r.hash} here`)
    if (!info.recipients.includes(from))
      return refusal('ERR_BLOB_NOT_NAMED', 'e.p.req.not-named', `blob ${r.hash} was not uploaded for ${from}`)
    return grant(b.tokens.issue({ op: 'get', hash: r.hash, did: from, exp }))
  }
  const size = r.size as number
  if (size > limits.maxBlobBytes)
    return refusal('ERR_BLOB_TOO_LARGE', 'e.p.msg.too-big', `${size} bytes: over ${limits.maxBlobBytes}`)
  const named = [...new Set(r.recipients)]
  if (named.length > MAX_BLOB_RECIPIENTS)
    return refusal('ERR_DIDCOMM_MALFORMED', 'e.p.msg.malformed', `at most ${MAX_BLOB_RECIPIENTS} recipients`)
  const clients: string[] = []
  for (const d of named) {
    const client = (await queue.clientOfKey(d)) ?? (await queue.clientOfKey(didOf(d)))
    if (!client) return refusal('ERR_UNKNOWN_RECIPIENT', 'e.p.msg.unknown-recipient', `nobody here registered ${d}`)
    const used = await b.store.usage(client)
    if (used + size > limits.maxBytesPerRecipient && !(await b.store.info(r.hash)))
      return refusal(
        'ERR_BLOB_QUOTA',
        'e.p.msg.quota-exceeded',
        `${d} has ${used} bytes of blobs waiting; ${size} more would exceed its ${limits.maxBytesPerRecipient}`,
      )
    clients.push(client)
  }
  const token = b.tokens.issue({ op: 'put', hash: r.hash, did: from, exp, size, recipients: [...new Set(clients)] })
  // the token travels in a header: HTTP servers take about 16 KiB of them
  if (token.length > MAX_HEADER_TOKEN)
    return refusal('ERR_DIDCOMM_MALFORMED', 'e.p.msg.malformed', 'the recipients do not fit in a token: name fewer')
  return grant(token)
}
