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
    private readonly maxBatch = 2000,
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

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch)
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
