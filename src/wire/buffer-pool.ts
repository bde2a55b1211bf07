/**
 * Buffers lent out and taken back for reuse: the MQTT node's frames (back at each PUBACK) and the
 * reliable receiver's reassembly buffers (back once the message's handler is done with them).
 * A buffer that lives from one event to a later one outlives young-generation collections, and
 * only a full collection frees it: a fresh one per frame or per chunk was as many bytes of such
 * garbage as the file itself (docs/FILES.md "Measured"). Only buffers this pool lent come back,
 * each once per loan, so two users never share one. Contents are not cleared: a borrower writes
 * every byte it reads.
 */
export class BufferPool {
  private readonly free: Uint8Array[] = []
  private readonly lent = new WeakMap<ArrayBufferLike, Uint8Array>()

  constructor(
    /** Free buffers kept at most (the oldest goes first). */
    private readonly keep: number,
    /** Smaller buffers are plain allocations, never pooled. */
    private readonly minBytes = 0,
  ) {}

  take(bytes: number): Uint8Array {
    if (bytes < this.minBytes) return new Uint8Array(bytes)
    let b: Uint8Array | undefined
    for (let i = this.free.length - 1; i >= 0; i--) {
      if ((this.free[i] as Uint8Array).length === bytes) {
        b = this.free.splice(i, 1)[0]
        break
      }
    }
    b ??= new Uint8Array(bytes)
    this.lent.set(b.buffer, b)
    return b
  }

  /** Back for reuse: any view of a buffer this pool lent; anything else is ignored. */
  giveBack(view: Uint8Array): void {
    const b = this.lent.get(view.buffer)
    if (!b) return
    this.lent.delete(view.buffer)
    this.free.push(b)
    if (this.free.length > this.keep) this.free.shift()
  }

  /** Free buffers held (tests). */
  get size(): number {
    return this.free.length
  }
}
