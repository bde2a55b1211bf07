import { CarrierError } from '../transport.js'

/**
 * The mediator's durable state behind one small asynchronous interface: the queue of envelopes
 * waiting for each mediated recipient, and who was granted mediation with which keys.
 *
 * Contract every implementation meets (the store conformance suite proves it):
 * - A write has reached durable storage before its promise resolves: once `enqueue` resolved the
 *   sender may be told "accepted", and the message survives `kill -9` of the process.
 * - `enqueue` checks the recipient's quota and stores atomically: over quota it rejects with
 *   `QuotaExceededError` and stores nothing; earlier messages stay intact.
 * - `peek` returns the oldest messages first and never expired ones; it does not remove them.
 *   Messages are removed only by `delete` (pickup's messages-received) or by expiry.
 * - Several mediator instances may share one store (PostgreSQL): `onEnqueued` fires in every
 *   instance, whichever instance enqueued, so one holding a live session can deliver at once.
 */
export interface MessageStore {
  enqueue(message: QueuedMessage, limits?: QueueLimits): Promise<void>
  /** Messages and bytes waiting for a recipient (expired ones not counted). */
  count(recipient: string): Promise<{ messages: number; bytes: number }>
  /** Up to `limit` messages for a recipient, oldest first, expired ones skipped. */
  peek(recipient: string, limit: number): Promise<QueuedMessage[]>
  /** Removes these ids of this recipient (ids of other recipients are left alone); resolves to how many were removed. */
  delete(recipient: string, ids: readonly string[]): Promise<number>
  /** Removes every message whose expiresAt is at or before `now`; resolves to how many. */
  purgeExpired(now: number): Promise<number>

  /** Mediation granted to a client DID (null removes it, with its keys and queue). */
  setGrant(client: string, grant: MediationGrant | null): Promise<void>
  grantOf(client: string): Promise<MediationGrant | null>
  /** Recipient keys/DIDs routed to a granted client (coordinate-mediation keylist / recipient list). */
  addKeys(client: string, keys: readonly string[]): Promise<void>
  removeKeys(client: string, keys: readonly string[]): Promise<void>
  keysOf(client: string): Promise<string[]>
  /** The client a recipient key/DID was registered by, or null when nobody registered it. */
  clientOfKey(key: string): Promise<string | null>

  /** Called, in every instance sharing the store, after a message for `recipient` was enqueued. */
  onEnqueued(listener: (recipient: string) => void): () => void
  close(): Promise<void>
}

export interface QueuedMessage {
  /** Unique per store (the mediator makes it: a random UUID); pickup's attachment id. */
  id: string
  /** The mediated client DID the message waits for. */
  recipient: string
  /** The packed envelope, byte-exact. */
  data: Uint8Array
  /** Unix milliseconds. */
  receivedAt: number
  /** Unix milliseconds; from the forward's expires_time. */
  expiresAt?: number
}

export interface QueueLimits {
  /** Most messages waiting for one recipient. */
  maxMessages?: number
  /** Most bytes waiting for one recipient. */
  maxBytes?: number
}

export interface MediationGrant {
  /** The routing DID the grant named (the mediator's DID). */
  routingDid: string
  /** Unix milliseconds. */
  grantedAt: number
}

export class QuotaExceededError extends CarrierError {
  constructor(message: string) {
    super('ERR_QUOTA_EXCEEDED', message)
  }
}
