export interface SeenIdsOptions {
  /** Most ids remembered; the oldest go first. Default 4096. */
  max?: number
  /** How long an id is remembered, in ms. Default 7 days (a mediator's default expiry). */
  ttlMs?: number
  /** The clock (tests pass a fixed one). */
  now?: () => number
}

/**
 * The window of message ids an agent already handed out, so a message delivered twice (a mediator
 * redelivering what it never heard acknowledged, a sender retrying a post whose answer was lost)
 * reaches the application once. Bounded in count and age; `entries()` and `SeenIds.from()` let a
 * process keep it across restarts (carrier listen keeps it in its folder).
 */
export class SeenIds {
  private readonly ids = new Map<string, number>()
  /** Handed out and not yet handled by the application: remembered here, not kept by entries(). */
  private readonly pending = new Set<string>()
  private readonly max: number
  private readonly ttlMs: number
  private readonly now: () => number
  /** Duplicates dropped since this window was made. */
  dropped = 0

  constructor(o: SeenIdsOptions = {}) {
    this.max = Math.max(1, o.max ?? 4096)
    this.ttlMs = o.ttlMs ?? 7 * 24 * 3600_000
    this.now = o.now ?? Date.now
  }

  /** A window holding these [id, time seen] pairs (oldest first); malformed or expired ones are skipped. */
  static from(entries: unknown, o: SeenIdsOptions = {}): SeenIds {
    const seen = new SeenIds(o)
    if (!Array.isArray(entries)) return seen
    for (const e of entries)
      if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && Number.isFinite(e[1]))
        seen.record(e[0], e[1])
    return seen
  }

  get size(): number {
    return this.ids.size
  }

  has(id: string): boolean {
    const t = this.ids.get(id)
    if (t === undefined) return false
    if (this.now() - t < this.ttlMs) return true
    this.ids.delete(id)
    return false
  }

  /** True (and one more `dropped`) when `id` was handed out already: the caller drops the message. */
  isDuplicate(id: string): boolean {
    if (!this.has(id)) return false
    this.dropped++
    return true
  }

  /**
   * Records `id` as handed out (now). `pending`: the application has not handled it yet, so
   * `entries()` leaves it out until `settle(id)`: a process killed before it handled the message
   * must take the copy delivered again after its restart.
   */
  add(id: string, o: { pending?: boolean } = {}): void {
    this.record(id, this.now())
    if (o.pending) this.pending.add(id)
  }

  /** The application handled `id` (added pending): from now on `entries()` keeps it. */
  settle(id: string): void {
    this.pending.delete(id)
  }

  /** Forgets `id` (a message refused after all may come again and must be handled then). */
  delete(id: string): void {
    this.ids.delete(id)
    this.pending.delete(id)
  }

  /** [id, time seen] pairs of handled ids, oldest first: what `from` takes back. */
  entries(): [string, number][] {
    const cutoff = this.now() - this.ttlMs
    return [...this.ids].filter(([id, t]) => t > cutoff && !this.pending.has(id))
  }

  private record(id: string, at: number): void {
    if (this.now() - at >= this.ttlMs) return
    this.ids.delete(id)
    this.ids.set(id, at)
    while (this.ids.size > this.max) {
      const oldest = this.ids.keys().next().value as string
      this.ids.delete(oldest)
      this.pending.delete(oldest)
    }
  }
}
