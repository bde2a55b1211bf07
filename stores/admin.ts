import type { PeerIdentity } from '../src/did/peer.js'
import type { MessageStore } from '../src/mediator/store.js'

/**
 * What an operator's mediator needs from its store besides the queue: its identity (DID and keys)
 * kept with the queue, so every restart and every instance on the same database serves one DID,
 * and a real query for readiness and the queue-depth gauge.
 */
export interface StoreAdmin {
  /** Whether the identity outlives the process (false for memory:). */
  readonly durable: boolean
  /** The stored identity; when there is none, `candidate` is stored and returned (first writer wins). */
  keepIdentity(candidate: PeerIdentity): Promise<PeerIdentity>
  /** Replaces the stored identity (--rotate-identity). */
  replaceIdentity(identity: PeerIdentity): Promise<void>
  /** Messages and bytes queued for everyone (expired ones not counted): a real query. */
  depth(): Promise<{ messages: number; bytes: number }>
}

/** A store that keeps an identity: SqliteMessageStore and PostgresMessageStore. */
export interface AdministeredStore extends MessageStore {
  admin(): StoreAdmin
}

/** The store's admin side; the memory store keeps nothing (a fresh identity each start). */
export function storeAdmin(store: MessageStore): StoreAdmin {
  if (typeof (store as Partial<AdministeredStore>).admin === 'function') return (store as AdministeredStore).admin()
  return {
    durable: false,
    keepIdentity: async (candidate) => candidate,
    replaceIdentity: async () => {},
    // the memory store answers from the process: nothing to reach
    depth: async () => ({ messages: 0, bytes: 0 }),
  }
}

/** The stored form: the identity file's JSON (carrier keys new). */
export function parseIdentity(text: string): PeerIdentity {
  const id = JSON.parse(text) as PeerIdentity
  if (typeof id?.did !== 'string' || !Array.isArray(id.secrets))
    throw new Error('the stored mediator identity is not an identity')
  return id
}
