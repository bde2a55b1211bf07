import { type MediationGrant, type MessageStore, type QueuedMessage, type QueueLimits, QuotaExceededError } from './store.js'

/** A MessageStore in memory: for tests and for a mediator that may lose its queue. Not durable. */
export class MemoryMessageStore implements MessageStore {
  private readonly queues = new Map<string, QueuedMessage[]>()
  private readonly grants = new Map<string, MediationGrant>()
  private readonly keys = new Map<string, string>()
  private readonly listeners = new Set<(recipient: string) => void>()

  async enqueue(message: QueuedMessage, limits: QueueLimits = {}): Promise<void> {
    const queue = this.queues.get(message.recipient) ?? []
    const live = queue.filter((m) => !expired(m, Date.now()))
    const bytes = live.reduce((n, m) => n + m.data.length, 0)
    if (limits.maxMessages !== undefined && live.length + 1 > limits.maxMessages)
      throw new QuotaExceededError(`queue of ${message.recipient} holds ${live.length} messages (limit ${limits.maxMessages})`)
    if (limits.maxBytes !== undefined && bytes + message.data.length > limits.maxBytes)
      throw new QuotaExceededError(
        `queue of ${message.recipient} would hold ${bytes + message.data.length} bytes (limit ${limits.maxBytes})`,
      )
    queue.push({ ...message, data: message.data.slice() })
    this.queues.set(message.recipient, queue)
    for (const l of this.listeners) l(message.recipient)
  }

  async count(recipient: string): Promise<{ messages: number; bytes: number }> {
    const live = (this.queues.get(recipient) ?? []).filter((m) => !expired(m, Date.now()))
    return { messages: live.length, bytes: live.reduce((n, m) => n + m.data.length, 0) }
  }

  async peek(recipient: string, limit: number): Promise<QueuedMessage[]> {
    const now = Date.now()
    return (this.queues.get(recipient) ?? []).filter((m) => !expired(m, now)).slice(0, Math.max(0, limit))
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    const queue = this.queues.get(recipient)
    if (!queue) return 0
    const gone = new Set(ids)
    const kept = queue.filter((m) => !gone.has(m.id))
    this.queues.set(recipient, kept)
    return queue.length - kept.length
  }

  async purgeExpired(now: number): Promise<number> {
    let removed = 0
    for (const [recipient, queue] of this.queues) {
      const kept = queue.filter((m) => !expired(m, now))
      removed += queue.length - kept.length
      this.queues.set(recipient, kept)
    }
    return removed
  }

  async setGrant(client: string, grant: MediationGrant | null): Promise<void> {
    if (grant) {
      this.grants.set(client, { ...grant })
      return
    }
    this.grants.delete(client)
    this.queues.delete(client)
    for (const [key, owner] of this.keys) if (owner === client) this.keys.delete(key)
  }

  async grantOf(client: string): Promise<MediationGrant | null> {
    const g = this.grants.get(client)
    return g ? { ...g } : null
  }

  async addKeys(client: string, keys: readonly string[]): Promise<void> {
    for (const k of keys) this.keys.set(k, client)
  }

  async removeKeys(client: string, keys: readonly string[]): Promise<void> {
    for (const k of keys) if (this.keys.get(k) === client) this.keys.delete(k)
  }

  async keysOf(client: string): Promise<string[]> {
    return [...this.keys].filter(([, owner]) => owner === client).map(([k]) => k)
  }

  async clientOfKey(key: string): Promise<string | null> {
    return this.keys.get(key) ?? null
  }

  onEnqueued(listener: (recipient: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }
}

function expired(m: QueuedMessage, now: number): boolean {
  return m.expiresAt !== undefined && m.expiresAt <= now
}
