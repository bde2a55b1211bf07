import {
  admitBlob,
  type BlobInfo,
  type BlobLimits,
  type BlobStore,
  checkAppend,
  checkNewBlob,
  checkRange,
  copyInfo,
  type NewBlob,
} from './blob-store.js'

/** A BlobStore in memory: for tests and a mediator that may lose what it holds. Not durable. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { info: BlobInfo; chunks: Uint8Array[] }>()

  async create(blob: NewBlob, limits?: BlobLimits): Promise<BlobInfo> {
    checkNewBlob(blob)
    const have = this.live(blob.hash, Date.now())
    if (have) return copyInfo(have.info)
    admitBlob(blob, (r) => this.used(r, Date.now()), limits)
    const info: BlobInfo = { ...blob, recipients: [...new Set(blob.recipients)], held: 0, complete: false }
    this.blobs.set(blob.hash, { info, chunks: [] })
    return copyInfo(info)
  }

  async info(hash: string): Promise<BlobInfo | null> {
    const b = this.live(hash, Date.now())
    return b ? copyInfo(b.info) : null
  }

  async append(hash: string, offset: number, bytes: Uint8Array): Promise<number> {
    const b = this.live(hash, Date.now())
    checkAppend(b?.info ?? null, hash, offset, bytes)
    const entry = b as { info: BlobInfo; chunks: Uint8Array[] }
    entry.chunks.push(bytes.slice())
    entry.info.held += bytes.length
    return entry.info.held
  }

  async complete(hash: string): Promise<void> {
    const b = this.live(hash, Date.now())
    if (b && b.info.held === b.info.size) b.info.complete = true
  }

  async *read(hash: string, start: number, end: number): AsyncIterable<Uint8Array> {
    const b = this.live(hash, Date.now())
    checkRange(b?.info ?? null, hash, start, end)
    let at = 0
    for (const c of (b as { chunks: Uint8Array[] }).chunks) {
      const from = Math.max(start, at)
      const to = Math.min(end, at + c.length)
      if (from < to) yield c.subarray(from - at, to - at)
      at += c.length
      if (at >= end) return
    }
  }

  async release(hash: string, recipient: string): Promise<boolean> {
    const b = this.live(hash, Date.now())
    if (!b) return false
    b.info.recipients = b.info.recipients.filter((r) => r !== recipient)
    if (b.info.recipients.length > 0) return false
    return this.blobs.delete(hash)
  }

  async delete(hash: string): Promise<boolean> {
    return this.blobs.delete(hash)
  }

  async usage(recipient: string): Promise<number> {
    return this.used(recipient, Date.now())
  }

  async purgeExpired(now: number): Promise<number> {
    let n = 0
    for (const [hash, b] of this.blobs)
      if (b.info.expiresAt <= now) {
        this.blobs.delete(hash)
        n++
      }
    return n
  }

  private live(hash: string, now: number) {
    const b = this.blobs.get(hash)
    return b && b.info.expiresAt > now ? b : undefined
  }

  private used(recipient: string, now: number): number {
    let n = 0
    for (const b of this.blobs.values()) if (b.info.expiresAt > now && b.info.recipients.includes(recipient)) n += b.info.size
    return n
  }
}
