/**
 * Group commit: the writes submitted while one transaction is being committed (or within one
 * tick, when none is) go to the database together in the next one, and each promise settles only
 * after that transaction committed. One fsync then covers many messages instead of one each.
 */
export class GroupCommit<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = []
  private draining: Promise<void> | undefined

  /**
   * `commit` writes a batch in one transaction and resolves after it is durable, with one outcome
   * per item (an Error refuses that item alone); when it throws, every item of the batch fails.
   */
  constructor(
    private readonly commit: (items: T[]) => Promise<(Error | undefined)[]>,
    private readonly limits: { maxItems?: number; maxBytes?: number; sizeOf?: (item: T) => number } = {},
  ) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain())
    })
  }

  /** Resolves once every write submitted so far has settled. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining
  }

  /** How many queued items the next batch takes: at least one, within both limits. */
  private batchLength(): number {
    const maxItems = this.limits.maxItems ?? 2000
    const maxBytes = this.limits.maxBytes ?? Number.POSITIVE_INFINITY
    const sizeOf = this.limits.sizeOf ?? (() => 0)
    let bytes = 0
    let n = 0
    for (const p of this.queue) {
      bytes += sizeOf(p.item)
      if (n > 0 && (n >= maxItems || bytes > maxBytes)) break
      n++
    }
    return n
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchLength())
      try {
        const outcomes = await this.commit(batch.map((p) => p.item))
        batch.forEach((p, i) => {
          const err = outcomes[i]
          if (err) p.reject(err)
          else p.resolve()
        })
      } catch (err) {
        for (const p of batch) p.reject(err)
      }
    }
    this.draining = undefined
  }
}
