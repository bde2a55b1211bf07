import { AbortError } from '../transport.js'

/** An unbounded queue read as an async iterable; close() ends every reader once drained. */
export class AsyncQueue<T> {
  private readonly items: T[] = []
  private readonly waiters = new Set<() => void>()
  private closed = false
  private held = 0

  constructor(private readonly sizeOf: (item: T) => number = () => 0) {}

  /** Sum of sizeOf over queued items. */
  get bytes(): number {
    return this.held
  }

  push(item: T): void {
    if (this.closed) return
    this.items.push(item)
    this.held += this.sizeOf(item)
    this.wake()
  }

  close(): void {
    this.closed = true
    this.wake()
  }

  async *iterate(signal?: AbortSignal): AsyncGenerator<T> {
    for (;;) {
      if (signal?.aborted) throw new AbortError(signal.reason)
      if (this.items.length > 0) {
        const next = this.items.shift() as T
        this.held -= this.sizeOf(next)
        yield next
        continue
      }
      if (this.closed) return
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        this.waiters.add(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }
}
