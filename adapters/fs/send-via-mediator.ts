import { createHash, randomUUID } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { type BlobAccess, blobAccess, uploadBlob } from '../../adapters/http/blob-client.js'
import { type BackoffOptions, backoffDelay } from '../../src/agent/backoff.js'
import type { Agent } from '../../src/agent.js'
import { didOf, type Resolver } from '../../src/did/document.js'
import { type EncryptedShare, shareMessage } from '../../src/files/share.js'
import {
  cipherBytesOf,
  newStreamParams,
  type StreamParams,
  sealSegment,
  segmentCount,
  TAG_BYTES,
} from '../../src/files/stream-aead.js'
import type { BlobAccessGrant } from '../../src/protocols/blob-access.js'
import { CarrierError } from '../../src/transport.js'

/**
 * A file to a recipient who is offline behind a mediator (its DID's service is the mediator's
 * DID): encrypted once with a fresh key (src/files/stream-aead.ts), the ciphertext uploaded to the
 * mediator's blob endpoint for that recipient, then the share-media with the key sent through the
 * mediator's forward, where it is queued. Done once the mediator holds both; the recipient fetches
 * it whenever it comes online (adapters/fs/blob-fetch.ts).
 */

export interface SendViaMediatorOptions {
  to: string
  filename?: string
  mediaType?: string
  backoff?: BackoffOptions
  /** Bytes the mediator holds of the ciphertext. */
  onProgress?: (held: number, total: number) => void
  onRetry?: (e: { attempt: number; error: unknown; delayMs: number }) => void
  signal?: AbortSignal
}

export interface QueuedFile {
  filename: string
  bytes: number
  sha256: string
  cipherBytes: number
  cipherSha256: string
  url: string
  mediator: string
  /** The share-media message's id (the recipient's file event names it). */
  id: string
}

/**
 * The mediator a DID is routed through, or undefined: its DIDComm service's URI is the mediator's
 * DID (createRoutedPeerDid), or the service names routing keys (the first is the mediator's, as
 * `carrier keys new --mediator` writes it).
 */
export async function routedThrough(did: string, resolver: Resolver): Promise<string | undefined> {
  const doc = await resolver.resolve(didOf(did))
  for (const s of doc?.service ?? []) {
    const eps = Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]
    for (const e of eps) {
      const ep = (typeof e === 'string' ? { uri: e } : e) as { uri?: unknown; routingKeys?: unknown }
      const keys = ep.routingKeys ?? (s as { routingKeys?: unknown }).routingKeys
      if (typeof ep.uri === 'string' && ep.uri.startsWith('did:')) return didOf(ep.uri)
      if (Array.isArray(keys) && typeof keys[0] === 'string') return didOf(keys[0])
    }
  }
  return undefined
}

/** The ciphertext from any byte offset: the segment holding it is sealed again (same key, same bytes). */
export async function* cipherFrom(
  path: string,
  params: StreamParams,
  plainBytes: number,
  offset: number,
  /** Sees each segment's plaintext before it is sealed. */
  onPlain?: (plain: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  const S = params.segmentBytes
  const count = segmentCount(plainBytes, S)
  let index = Math.floor(offset / (S + TAG_BYTES))
  let skip = offset - index * (S + TAG_BYTES)
  const fh = await open(path, 'r')
  try {
    const buf = new Uint8Array(S)
    for (; index < count; index++) {
      const length = Math.min(S, plainBytes - index * S)
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, index * S + got)
        if (bytesRead === 0) throw new CarrierError('ERR_FILE_CHANGED', `${path} is shorter than when it was encrypted`)
        got += bytesRead
      }
      onPlain?.(buf.subarray(0, length))
      const sealed = sealSegment(params, index, index === count - 1, buf.subarray(0, length))
      yield skip > 0 ? sealed.subarray(skip) : sealed
      skip = 0
    }
  } finally {
    await fh.close()
  }
}

/** Plaintext SHA-256, and the ciphertext's (the blob's name), in one pass over the file. */
async function hashes(path: string, params: StreamParams, plainBytes: number) {
  const cipher = createHash('sha256')
  const plain = createHash('sha256')
  for await (const sealed of cipherFrom(path, params, plainBytes, 0, (p) => plain.update(p))) cipher.update(sealed)
  return { plainSha256: plain.digest('hex'), cipherSha256: cipher.digest('hex') }
}

/** Retries `f` on transient failures (the mediator restarting or unreachable) with back-off. */
async function retrying<T>(o: SendViaMediatorOptions, f: () => Promise<T>, max = 30): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f()
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      const transient = !(err instanceof CarrierError) || /TIMEOUT|LINK|HTTP_STATUS|UNREACHABLE/.test(code)
      if (!transient || attempt >= max || o.signal?.aborted) throw err
      const delayMs = backoffDelay(attempt, o.backoff)
      o.onRetry?.({ attempt: attempt + 1, error: err, delayMs })
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }
}

export async function sendViaMediator(
  agent: Agent,
  resolver: Resolver,
  path: string,
  o: SendViaMediatorOptions,
): Promise<QueuedFile> {
  const mediator = await routedThrough(o.to, resolver)
  if (!mediator) throw new CarrierError('ERR_NOT_MEDIATED', `${o.to} is not routed through a mediator`)
  const plainBytes = (await stat(path)).size
  const params = newStreamParams()
  const cipherBytes = cipherBytesOf(plainBytes, params.segmentBytes)
  const { plainSha256, cipherSha256 } = await hashes(path, params, plainBytes)
  const ask = blobAccess(agent, mediator, { op: 'put', hash: cipherSha256, size: cipherBytes, recipients: [o.to] })
  let first: BlobAccessGrant | undefined = await retrying(o, ask)
  const url = first.url
  const access: BlobAccess = async () => {
    const g = first ?? (await ask())
    first = undefined
    return g
  }
  await uploadBlob({
    access,
    size: cipherBytes,
    source: (offset) => cipherFrom(path, params, plainBytes, offset),
    backoff: o.backoff,
    onRetry: o.onRetry,
    onProgress: o.onProgress,
    signal: o.signal,
  })
  const share: EncryptedShare = {
    id: randomUUID(),
    filename: o.filename ?? basename(path),
    mediaType: o.mediaType ?? 'application/octet-stream',
    plainBytes,
    plainSha256,
    cipherBytes,
    cipherSha256,
    params,
    links: [url],
  }
  const message = shareMessage(share)
  // the forward is queued once the mediator answered 202; sent again after a failure, it is the
  // same message (the recipient drops a second copy by its id)
  await retrying(o, () => agent.send(message, { to: o.to }))
  return {
    filename: share.filename,
    bytes: plainBytes,
    sha256: plainSha256,
    cipherBytes,
    cipherSha256,
    url,
    mediator,
    id: share.id,
  }
}
