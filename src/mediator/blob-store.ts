import { CarrierError } from '../transport.js'
import { StoreInputError } from './store.js'
import { checkName } from './store-rules.js'

/**
 * Encrypted blobs (docs/FILES.md "Encrypted blob format") waiting at the mediator for the
 * recipients their uploader named, beside the MessageStore's queue. A blob is named by the SHA-256
 * of its bytes (the ciphertext: the store never sees a key) and uploaded in order, resumably: each
 * `append` continues at the bytes held, so an upload cut by a crash resumes where the store's
 * durable bytes end, in this process or another one sharing the store.
 *
 * Contract every implementation meets (test/blobs/blob-conformance.ts proves it):
 * - `create` records the declared size, the recipients and the expiry once; the recipients' quota
 *   (bytes of unexpired blobs naming each) counts the whole declared size from then on: over it,
 *   `BlobQuotaError` and nothing is recorded. Creating a blob that exists returns it unchanged.
 * - `append` at the offset equal to the bytes held stores the bytes durably before it resolves
 *   (they survive `kill -9`) and resolves to the new count; any other offset is refused with
 *   `BlobOffsetError` naming the bytes held, and nothing changes. Bytes past the declared size are
 *   refused the same way. Two appends at the same offset: one wins, the other is refused.
 * - `read` yields the bytes of [start, end) in order, only of bytes held (the HTTP layer serves
 *   complete blobs only; it reads an uploaded one whole to check its hash before `complete`).
 * - `complete` marks a blob whose bytes are all held (the caller verified the hash).
 * - An expired blob is gone for every call (info null) and `purgeExpired` removes its bytes.
 * - `release` removes one recipient; the blob and its bytes are deleted with its last recipient.
 */
export interface BlobStore {
  create(blob: NewBlob, limits?: BlobLimits): Promise<BlobInfo>
  info(hash: string): Promise<BlobInfo | null>
  append(hash: string, offset: number, bytes: Uint8Array): Promise<number>
  complete(hash: string): Promise<void>
  read(hash: string, start: number, end: number): AsyncIterable<Uint8Array>
  /** Removes this recipient from the blob; resolves to true when that deleted the blob. */
  release(hash: string, recipient: string): Promise<boolean>
  delete(hash: string): Promise<boolean>
  /** Bytes (declared sizes) of unexpired blobs naming this recipient. */
  usage(recipient: string): Promise<number>
  purgeExpired(now: number): Promise<number>
}

export interface NewBlob {
  /** SHA-256 of the whole blob, 64 lowercase hex digits. */
  hash: string
  size: number
  /** The DID that uploads it (proven by authcrypt when the upload was authorised). */
  uploader: string
  /** Mediated client DIDs allowed to download it. */
  recipients: string[]
  createdAt: number
  expiresAt: number
}

export interface BlobInfo extends NewBlob {
  /** Bytes held from the start (durable). */
  held: number
  /** All bytes held and their hash verified. */
  complete: boolean
}

export interface BlobLimits {
  /** Most bytes of blobs waiting for one recipient. */
  maxBytesPerRecipient?: number
}

export class BlobQuotaError extends CarrierError {
  constructor(message: string) {
    super('ERR_BLOB_QUOTA', message)
  }
}

export class BlobOffsetError extends CarrierError {
  constructor(
    readonly held: number,
    message: string,
  ) {
    super('ERR_BLOB_OFFSET', message)
  }
}

export class BlobNotFoundError extends CarrierError {
  constructor(hash: string) {
    super('ERR_BLOB_NOT_FOUND', `no blob ${hash} here (never uploaded, expired or deleted)`)
  }
}

/** Largest blob a store takes at all (a mediator's own limit is usually lower). */
export const MAX_BLOB_BYTES = 2 ** 40
/** Most recipients one blob names. */
export const MAX_BLOB_RECIPIENTS = 16

const HEX64 = /^[0-9a-f]{64}$/

export function isBlobHash(h: unknown): h is string {
  return typeof h === 'string' && HEX64.test(h)
}

/** The input checks every BlobStore makes. */
export function checkNewBlob(b: NewBlob): void {
  if (typeof b !== 'object' || b === null) throw new StoreInputError('a blob must be an object')
  if (!isBlobHash(b.hash)) throw new StoreInputError('a blob hash is 64 lowercase hex digits')
  if (!Number.isSafeInteger(b.size) || b.size < 0 || b.size > MAX_BLOB_BYTES)
    throw new StoreInputError(`blob size ${b.size} is not 0..${MAX_BLOB_BYTES}`)
  checkName('uploader', b.uploader)
  if (!Array.isArray(b.recipients) || b.recipients.length === 0 || b.recipients.length > MAX_BLOB_RECIPIENTS)
    throw new StoreInputError(`a blob names 1..${MAX_BLOB_RECIPIENTS} recipients`)
  for (const r of b.recipients) checkName('recipient', r)
  for (const t of [b.createdAt, b.expiresAt])
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new StoreInputError('blob times must be finite numbers')
}

export function checkAppend(info: BlobInfo | null, hash: string, offset: number, bytes: Uint8Array): BlobInfo {
  if (!info) throw new BlobNotFoundError(hash)
  if (!(bytes instanceof Uint8Array)) throw new StoreInputError('blob bytes must be a Uint8Array')
  if (offset !== info.held) throw new BlobOffsetError(info.held, `blob ${hash}: ${info.held} bytes held, not ${offset}`)
  if (offset + bytes.length > info.size)
    throw new BlobOffsetError(info.held, `blob ${hash}: ${offset + bytes.length} bytes would exceed its ${info.size}`)
  return info
}

export function checkRange(info: BlobInfo | null, hash: string, start: number, end: number): BlobInfo {
  if (!info) throw new BlobNotFoundError(hash)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > info.held)
    throw new StoreInputError(`range ${start}..${end} of a blob holding ${info.held} bytes`)
  return info
}

/** Refuses a new blob that would take a recipient over its quota (its current usage given). */
export function admitBlob(b: NewBlob, usage: (recipient: string) => number, limits?: BlobLimits): void {
  const max = limits?.maxBytesPerRecipient
  if (max === undefined) return
  for (const r of b.recipients) {
    const used = usage(r)
    if (used + b.size > max)
      throw new BlobQuotaError(`${r} has ${used} bytes of blobs waiting; ${b.size} more would exceed its ${max}`)
  }
}

/** A MemoryBlobStore-style copy of the info (callers may not change the store's own). */
export const copyInfo = (i: BlobInfo): BlobInfo => ({ ...i, recipients: [...i.recipients] })
