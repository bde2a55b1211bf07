import {
  DuplicateMessageError,
  type MediationGrant,
  type MessageStore,
  type QueuedMessage,
  type QueueLimits,
  StoreClosedError,
} from './store.js'
import { checkMessage, checkName, checkNames, isExpired, notifyAll, QueueTally, rowLimit } from './store-rules.js'

/** A MessageStore in memory: for tests and for a mediator that may lose its queue. Not durable. */
export class MemoryMessageStore implements MessageStore {
  private readonly queues = new Map<string, QueuedMessage[]>()
  /** Bytes held per queue, expired messages included until purged: the quota check is O(1). */
  private readonly bytes = new Map<string, number>()
  private readonly ids = new Set<string>()
  private readonly grants = new Map<string, MediationGrant>()
  private readonly keys = new Map<string, string>()
  private readonly listeners = new Set<(recipient: string) => void>()
  private closed = false

  async enqueue(message: QueuedMessage, limits: QueueLimits = {}): Promise<void> {
    this.open()
    checkMessage(message)
    if (this.ids.has(message.id)) throw new DuplicateMessageError(message.id)
    const recipient = message.recipient
    const admit = () =>
      new QueueTally(recipient, this.queues.get(recipient)?.length ?? 0, this.bytes.get(recipient) ?? 0).admit(
        message.data.length,
        limits,
      )
    try {
      admit()
    } catch {
      // expired messages count until they are purged: this queue is purged and looked at again
      this.purgeQueue(recipient, Date.now())
      admit()
    }
    const queue = this.queues.get(recipient) ?? []
    queue.push(copy(message))
    this.ids.add(message.id)
    this.queues.set(recipient, queue)
    this.bytes.set(recipient, (this.bytes.get(recipient) ?? 0) + message.data.length)
    notifyAll(this.listeners, recipient)
  }

  async count(recipient: string): Promise<{ messages: number; bytes: number }> {
    this.open()
    const now = Date.now()
    const live = (this.queues.get(recipient) ?? []).filter((m) => !isExpired(m, now))
    return { messages: live.length, bytes: live.reduce((n, m) => n + m.data.length, 0) }
  }

  async peek(recipient: string, limit: number): Promise<QueuedMessage[]> {
    this.open()
    const now = Date.now()
    const rows = rowLimit(limit)
    const out: QueuedMessage[] = []
    for (const m of this.queues.get(recipient) ?? []) {
      if (out.length >= rows) break
      if (!isExpired(m, now)) out.push(copy(m))
    }
    return out
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    this.open()
    const queue = this.queues.get(recipient)
    if (!queue) return 0
    const gone = new Set(ids)
    const kept = queue.filter((m) => !gone.has(m.id))
    for (const m of queue) if (gone.has(m.id)) this.ids.delete(m.id)
    this.setQueue(recipient, kept)
    return queue.length - kept.length
  }

  async purgeExpired(now: number): Promise<number> {
    this.open()
    let removed = 0
    for (const recipient of [...this.queues.keys()]) removed += this.purgeQueue(recipient, now)
    return removed
  }

  private purgeQueue(recipient: string, now: number): number {
    const queue = this.queues.get(recipient) ?? []
    const kept = queue.filter((m) => !isExpired(m, now))
    for (const m of queue) if (isExpired(m, now)) this.ids.delete(m.id)
    this.setQueue(recipient, kept)
    return queue.length - kept.length
  }

  async setGrant(client: string, grant: MediationGrant | null): Promise<void> {
    this.open()
    checkName('client', client)
    if (grant) {
      this.grants.set(client, { routingDid: grant.routingDid, grantedAt: grant.grantedAt })
      return
    }
    this.grants.delete(client)
    for (const m of this.queues.get(client) ?? []) this.ids.delete(m.id)
    this.queues.delete(client)
    this.bytes.delete(client)
    for (const [key, owner] of [...this.keys]) if (owner === client) this.keys.delete(key)
  }

  async grantOf(client: string): Promise<MediationGrant | null> {
    this.open()
    const g = this.grants.get(client)
    return g ? { ...g } : null
  }

  async addKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    checkName('client', client)
    checkNames('key', keys)
    for (const k of keys) if (!this.keys.has(k)) this.keys.set(k, client)
  }

  async removeKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    for (const k of keys) if (this.keys.get(k) === client) this.keys.delete(k)
  }

  async keysOf(client: string): Promise<string[]> {
    this.open()
    return [...this.keys].filter(([, owner]) => owner === client).map(([k]) => k)
  }

  async clientOfKey(key: string): Promise<string | null> {
    this.open()
    return this.keys.get(key) ?? null
  }

  onEnqueued(listener: (recipient: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.closed = true
    this.listeners.clear()
  }

  private open(): void {
    if (this.closed) throw new StoreClosedError()
  }

  private setQueue(recipient: string, queue: QueuedMessage[]): void {
    if (queue.length === 0) {
      this.queues.delete(recipient)
      this.bytes.delete(recipient)
      return
    }
    this.queues.set(recipient, queue)
    this.bytes.set(
      recipient,
      queue.reduce((n, m) => n + m.data.length, 0),
    )
  }
}

function copy(m: QueuedMessage): QueuedMessage {
  const out: QueuedMessage = { id: m.id, recipient: m.recipient, data: new Uint8Array(m.data), receivedAt: m.receivedAt }
  if (m.expiresAt !== undefined) out.expiresAt = m.expiresAt
  return out
}
