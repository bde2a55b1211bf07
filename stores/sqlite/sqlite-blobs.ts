import { mkdirSync, readdirSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import {
  admitBlob,
  type BlobInfo,
  type BlobLimits,
  type BlobStore,
  checkAppend,
  checkNewBlob,
  checkRange,
  isBlobHash,
  type NewBlob,
} from '../../src/mediator/blob-store.js'
import { failed } from '../errors.js'

export const BLOB_SCHEMA = `
CREATE TABLE IF NOT EXISTS blobs (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  held INTEGER NOT NULL,
  complete INTEGER NOT NULL,
  uploader TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blob_recipients (
  hash TEXT NOT NULL,
  recipient TEXT NOT NULL,
  PRIMARY KEY (hash, recipient)
);
CREATE INDEX IF NOT EXISTS blob_recipients_recipient ON blob_recipients (recipient);
`

/** Bytes read from a blob file per chunk served. */
const READ_CHUNK = 256 * 1024

interface Row {
  hash: string
  size: number
  held: number
  complete: number
  uploader: string
  created_at: number
  expires_at: number
}

/**
 * Blobs of a SQLite-backed mediator: the bytes in a folder next to the database (`FILE.blobs/`,
 * one file per blob, named by its hash), what is known of them (size, bytes held, recipients,
 * expiry) in the database's own tables. An append writes at its offset, fsyncs the file, then
 * commits the new count: the count never names bytes that are not on disk, and bytes a crash left
 * past the count are overwritten by the resumed upload.
 */
export class SqliteBlobStore implements BlobStore {
  private readonly sql: ReturnType<typeof statements>
  /** One append at a time per blob in this process (the offset check and the write are one step). */
  private readonly busy = new Map<string, Promise<unknown>>()

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly dir: string,
  ) {
    try {
      db.exec(BLOB_SCHEMA)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw failed(`cannot open the blob folder ${dir}`, err)
    }
    this.sql = statements(db)
  }

  async create(blob: NewBlob, limits?: BlobLimits): Promise<BlobInfo> {
    checkNewBlob(blob)
    const now = Date.now()
    const made = this.run('create', () =>
      this.db
        .transaction(() => {
          const have = this.infoAt(blob.hash, now)
          if (have) return { info: have, made: false }
          admitBlob(blob, (r) => (this.sql.usage.get(r, now) as { b: number }).b, limits)
          this.sql.dropBlob.run(blob.hash) // an expired one not yet purged
          this.sql.dropRecipients.run(blob.hash)
          this.sql.insert.run(blob.hash, blob.size, blob.uploader, blob.createdAt, blob.expiresAt)
          for (const r of new Set(blob.recipients)) this.sql.addRecipient.run(blob.hash, r)
          return { info: this.infoAt(blob.hash, now) as BlobInfo, made: true }
        })
        .immediate(),
    )
    if (made.made) {
      const fh = await open(this.path(blob.hash), 'w', 0o600)
      await fh.close()
    }
    return made.info
  }

  async info(hash: string): Promise<BlobInfo | null> {
    if (!isBlobHash(hash)) return null
    return this.run('info', () => this.infoAt(hash, Date.now()))
  }

  async append(hash: string, offset: number, bytes: Uint8Array): Promise<number> {
    return this.exclusive(hash, async () => {
      checkAppend(await this.info(hash), hash, offset, bytes)
      const fh = await open(this.path(hash), 'r+').catch(() => open(this.path(hash), 'w'))
      try {
        let at = 0
        while (at < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, at, bytes.length - at, offset + at)
          at += bytesWritten
        }
        await fh.datasync()
      } catch (err) {
        throw failed(`blob ${hash}: write`, err)
      } finally {
        await fh.close()
      }
      const held = offset + bytes.length
      this.run('append', () => this.sql.setHeld.run(held, hash, offset))
      return held
    })
  }

  async complete(hash: string): Promise<void> {
    const fh = await open(this.path(hash), 'r+')
    try {
      const info = await this.info(hash)
      if (!info || info.held !== info.size) return
      // bytes a crash left past the end of an upload that was then finished shorter cannot exist
      // (the size is fixed), but a file longer than its blob is cut to size before it is served
      await fh.truncate(info.size)
      await fh.datasync()
    } finally {
      await fh.close()
    }
    this.run('complete', () => this.sql.complete.run(hash))
  }

  async *read(hash: string, start: number, end: number): AsyncIterable<Uint8Array> {
    checkRange(await this.info(hash), hash, start, end)
    const fh = await open(this.path(hash), 'r')
    try {
      for (let at = start; at < end; ) {
        const buf = new Uint8Array(Math.min(READ_CHUNK, end - at))
        const { bytesRead } = await fh.read(buf, 0, buf.length, at)
        if (bytesRead === 0) throw failed(`blob ${hash}`, new Error(`the file ends at ${at}, its blob at ${end}`))
        at += bytesRead
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      await fh.close()
    }
  }

  async release(hash: string, recipient: string): Promise<boolean> {
    if (!isBlobHash(hash)) return false
    const left = this.run('release', () =>
      this.db
        .transaction(() => {
          if (!this.infoAt(hash, Date.now())) return -1
          this.sql.removeRecipient.run(hash, recipient)
          return (this.sql.recipientCount.get(hash) as { n: number }).n
        })
        .immediate(),
    )
    if (left !== 0) return false
    return this.delete(hash)
  }

  async delete(hash: string): Promise<boolean> {
    if (!isBlobHash(hash)) return false
    const n = this.run('delete', () =>
      this.db
        .transaction(() => {
          this.sql.dropRecipients.run(hash)
          return this.sql.dropBlob.run(hash).changes
        })
        .immediate(),
    )
    await unlink(this.path(hash)).catch(() => {})
    return n > 0
  }

  async usage(recipient: string): Promise<number> {
    return this.run('usage', () => (this.sql.usage.get(recipient, Date.now()) as { b: number }).b)
  }

  /** Expired blobs, and files no row names (a crash between the row's deletion and the file's). */
  async purgeExpired(now: number): Promise<number> {
    const expired = this.run('purge', () => (this.sql.expired.all(now) as { hash: string }[]).map((r) => r.hash))
    for (const h of expired) await this.delete(h)
    for (const f of readdirSync(this.dir))
      if (isBlobHash(f) && !this.sql.exists.get(f)) await unlink(join(this.dir, f)).catch(() => {})
    return expired.length
  }

  private path(hash: string): string {
    return join(this.dir, hash)
  }

  private infoAt(hash: string, now: number): BlobInfo | null {
    const r = this.sql.get.get(hash, now) as Row | undefined
    if (!r) return null
    const recipients = (this.sql.recipients.all(hash) as { recipient: string }[]).map((x) => x.recipient)
    return {
      hash: r.hash,
      size: r.size,
      held: r.held,
      complete: r.complete === 1,
      uploader: r.uploader,
      recipients,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }
  }

  private async exclusive<T>(hash: string, f: () => Promise<T>): Promise<T> {
    const before = this.busy.get(hash) ?? Promise.resolve()
    const mine = before.then(f, f)
    const settled = mine.catch(() => {})
    this.busy.set(hash, settled)
    void settled.then(() => this.busy.get(hash) === settled && this.busy.delete(hash))
    return mine
  }

  private run<T>(what: string, f: () => T): T {
    try {
      return f()
    } catch (err) {
      if (err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('ERR_BLOB')) throw err
      throw failed(`SQLite blob store ${what}`, err)
    }
  }
}

function statements(db: BetterSqlite3.Database) {
  return {
    insert: db.prepare(
      'INSERT INTO blobs (hash, size, held, complete, uploader, created_at, expires_at) VALUES (?, ?, 0, 0, ?, ?, ?)',
    ),
    addRecipient: db.prepare('INSERT OR IGNORE INTO blob_recipients (hash, recipient) VALUES (?, ?)'),
    get: db.prepare('SELECT * FROM blobs WHERE hash = ? AND expires_at > ?'),
    exists: db.prepare('SELECT 1 FROM blobs WHERE hash = ?'),
    recipients: db.prepare('SELECT recipient FROM blob_recipients WHERE hash = ? ORDER BY rowid'),
    recipientCount: db.prepare('SELECT count(*) AS n FROM blob_recipients WHERE hash = ?'),
    removeRecipient: db.prepare('DELETE FROM blob_recipients WHERE hash = ? AND recipient = ?'),
    setHeld: db.prepare('UPDATE blobs SET held = ? WHERE hash = ? AND held = ?'),
    complete: db.prepare('UPDATE blobs SET complete = 1 WHERE hash = ? AND held = size'),
    dropBlob: db.prepare('DELETE FROM blobs WHERE hash = ?'),
    dropRecipients: db.prepare('DELETE FROM blob_recipients WHERE hash = ?'),
    usage: db.prepare(
      'SELECT coalesce(sum(b.size), 0) AS b FROM blob_recipients r JOIN blobs b ON b.hash = r.hash WHERE r.recipient = ? AND b.expires_at > ?',
    ),
    expired: db.prepare('SELECT hash FROM blobs WHERE expires_at <= ?'),
  }
}
