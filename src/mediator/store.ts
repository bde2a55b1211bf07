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
 *   One call may stand for several messages (coalesced); a listener that throws does not affect
 *   the enqueue.
 * - A key belongs to the client that registered it first: `addKeys` by another client leaves it
 *   there, `removeKeys` by another client does not remove it (check `clientOfKey` to answer).
 * - A message is refused with `StoreInputError` when its id or recipient is empty or longer than
 *   `MAX_STORE_ID_BYTES` in UTF-8, its data is not a Uint8Array or a time is not a finite number; an id
 *   already stored is refused with `DuplicateMessageError` (the stored one stays as it was).
 * - After `close` every call rejects with `StoreClosedError`; `close` waits for writes under way.
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
  /**
   * Called when `onEnqueued` signals from other instances may have been lost (PostgreSQL: the
   * LISTEN connection dropped and is back): whoever holds live sessions looks at their queues again.
   * Stores no other process writes to need not have it.
   */
  onMissed?(listener: () => void): () => void
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

export class DuplicateMessageError extends CarrierError {
  constructor(id: string) {
    super('ERR_DUPLICATE_MESSAGE', `a message with id ${JSON.stringify(id)} is already stored`)
  }
}

export class StoreInputError extends CarrierError {
  constructor(message: string) {
    super('ERR_STORE_INPUT', message)
  }
}

export class StoreClosedError extends CarrierError {
  constructor() {
    super('ERR_STORE_CLOSED', 'the message store is closed')
  }
}

/**
 * Longest message id, recipient, client or key a store accepts, in UTF-8 bytes: long enough for a
 * did:peer:2 with several keys and services, short enough for a PostgreSQL index entry (2,704
 * bytes at most) and a NOTIFY payload.
 */
export const MAX_STORE_ID_BYTES = 2048
