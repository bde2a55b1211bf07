import type * as Pg from 'pg'
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
import { CarrierError } from '../../src/transport.js'
import { failed } from '../errors.js'
import { recipientLock } from './schema.js'

/** Bytes per chunk row: an append is split into rows of at most this size. */
export const CHUNK_BYTES = 1024 * 1024
/** Chunk rows fetched per query when serving a range (memory: this many chunks). */
const READ_ROWS = 4

export function blobSchemaSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.blobs (
  hash text PRIMARY KEY,
  size bigint NOT NULL,
  held bigint NOT NULL,
  complete boolean NOT NULL,
  uploader text NOT NULL,
  created_at float8 NOT NULL,
  expires_at float8 NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.blob_recipients (
  hash text NOT NULL,
  recipient text NOT NULL,
  seq bigserial,
  PRIMARY KEY (hash, recipient)
);
CREATE INDEX IF NOT EXISTS blob_recipients_recipient ON ${s}.blob_recipients (recipient);
CREATE TABLE IF NOT EXISTS ${s}.blob_chunks (
  hash text NOT NULL,
  start bigint NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (hash, start)
);
-- ciphertext does not compress: stored out of line without trying (altered once, not each start)
DO $$ BEGIN
  IF (SELECT attstorage FROM pg_attribute WHERE attrelid = '${s}.blob_chunks'::regclass AND attname = 'data') <> 'e' THEN
    ALTER TABLE ${s}.blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
  END IF;
END $$;
`
}

interface Row {
  hash: string
  size: string
  held: string
  complete: boolean
  uploader: string
  created_at: number
  expires_at: number
}

/**
 * Blobs for several mediator instances on one PostgreSQL: the bytes in chunk rows (bytea, at most
 * 1 MiB each) keyed by (hash, start offset), beside the queue in the same schema. Any instance
 * resumes an upload another received (the blob's row, locked FOR UPDATE, holds the count, so two
 * instances appending at once cannot both win) and serves any range by reading the chunks it
 * spans. A chunk row is committed with the new count in one transaction: durable before the
 * client is told.
 */
export class PostgresBlobStore implements BlobStore {
  private readonly lockSpace: number

  constructor(
    private readonly pool: Pg.Pool,
    /** The quoted schema name. */
    private readonly s: string,
  ) {
    this.lockSpace = recipientLock(`${s}.blobs`)
  }

  async create(blob: NewBlob, limits?: BlobLimits): Promise<BlobInfo> {
    checkNewBlob(blob)
    const recipients = [...new Set(blob.recipients)]
    return this.transaction('create', async (c) => {
      const now = Date.now()
      const have = await this.infoWith(c, blob.hash, now)
      if (have) return have
      // the recipients' quota checks and this insert are atomic across instances
      const locks = [...new Set(recipients.map(recipientLock))].sort((a, b) => a - b)
      await c.query('SELECT pg_advisory_xact_lock($1::int4, k) FROM unnest($2::int4[]) AS k', [this.lockSpace, locks])
      const used = new Map<string, number>()
      for (const r of recipients) used.set(r, await this.usageWith(c, r, now))
      admitBlob(blob, (r) => used.get(r) ?? 0, limits)
      await c.query(`DELETE FROM ${this.s}.blob_chunks WHERE hash = $1`, [blob.hash]) // an expired one not yet purged
      await c.query(`DELETE FROM ${this.s}.blob_recipients WHERE hash = $1`, [blob.hash])
      await c.query(`DELETE FROM ${this.s}.blobs WHERE hash = $1`, [blob.hash])
      const inserted = await c.query(
        `INSERT INTO ${this.s}.blobs (hash, size, held, complete, uploader, created_at, expires_at)
         VALUES ($1, $2, 0, false, $3, $4, $5) ON CONFLICT (hash) DO NOTHING`,
        [blob.hash, blob.size, blob.uploader, blob.createdAt, blob.expiresAt],
      )
      if (inserted.rowCount === 1)
        await c.query(`INSERT INTO ${this.s}.blob_recipients (hash, recipient) SELECT $1, unnest($2::text[])`, [
          blob.hash,
          recipients,
        ])
      return (await this.infoWith(c, blob.hash, now)) as BlobInfo
    })
  }

  async info(hash: string): Promise<BlobInfo | null> {
    if (!isBlobHash(hash)) return null
    const c = await this.connect('info')
    try {
      return await this.infoWith(c, hash, Date.now())
    } catch (err) {
      throw failed('PostgreSQL blob store info', err)
    } finally {
      c.release()
    }
  }

  async append(hash: string, offset: number, bytes: Uint8Array): Promise<number> {
    return this.transaction('append', async (c) => {
      const r = await c.query<{ held: string }>(`SELECT held FROM ${this.s}.blobs WHERE hash = $1 FOR UPDATE`, [hash])
      const info = r.rows[0] ? await this.infoWith(c, hash, Date.now()) : null
      checkAppend(info, hash, offset, bytes)
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        const chunk = bytes.subarray(at, Math.min(bytes.length, at + CHUNK_BYTES))
        await c.query(
          `INSERT INTO ${this.s}.blob_chunks (hash, start, data) VALUES ($1, $2, $3)
           ON CONFLICT (hash, start) DO UPDATE SET data = excluded.data`,
          [hash, offset + at, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)],
        )
      }
      const held = offset + bytes.length
      await c.query(`UPDATE ${this.s}.blobs SET held = $2 WHERE hash = $1`, [hash, held])
      return held
    })
  }

  async complete(hash: string): Promise<void> {
    await this.transaction('complete', (c) =>
      c.query(`UPDATE ${this.s}.blobs SET complete = true WHERE hash = $1 AND held = size`, [hash]),
    )
  }

  async *read(hash: string, start: number, end: number): AsyncIterable<Uint8Array> {
    checkRange(await this.info(hash), hash, start, end)
    let at = start
    while (at < end) {
      const c = await this.connect('read')
      let rows: { start: string; data: Buffer }[]
      try {
        rows = (
          await c.query<{ start: string; data: Buffer }>(
            `SELECT start, data FROM ${this.s}.blob_chunks
             WHERE hash = $1 AND start + octet_length(data) > $2 AND start < $3 ORDER BY start LIMIT $4`,
            [hash, at, end, READ_ROWS],
          )
        ).rows
      } catch (err) {
        throw failed('PostgreSQL blob store read', err)
      } finally {
        c.release()
      }
      if (rows.length === 0) throw failed(`blob ${hash}`, new Error(`no chunk holds byte ${at}`))
      for (const row of rows) {
        const s = Number(row.start)
        if (s > at) throw failed(`blob ${hash}`, new Error(`no chunk holds byte ${at}`))
        const data = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.length)
        const piece = data.subarray(at - s, Math.min(data.length, end - s))
        at += piece.length
        yield piece
        if (at >= end) return
      }
    }
  }

  async release(hash: string, recipient: string): Promise<boolean> {
    if (!isBlobHash(hash)) return false
    return this.transaction('release', async (c) => {
      const r = await c.query(`SELECT 1 FROM ${this.s}.blobs WHERE hash = $1 AND expires_at > $2 FOR UPDATE`, [hash, Date.now()])
      if (r.rowCount === 0) return false
      await c.query(`DELETE FROM ${this.s}.blob_recipients WHERE hash = $1 AND recipient = $2`, [hash, recipient])
      const left = await c.query(`SELECT 1 FROM ${this.s}.blob_recipients WHERE hash = $1 LIMIT 1`, [hash])
      if ((left.rowCount ?? 0) > 0) return false
      await this.deleteWith(c, hash)
      return true
    })
  }

  async delete(hash: string): Promise<boolean> {
    if (!isBlobHash(hash)) return false
    return this.transaction('delete', (c) => this.deleteWith(c, hash))
  }

  async usage(recipient: string): Promise<number> {
    const c = await this.connect('usage')
    try {
      return await this.usageWith(c, recipient, Date.now())
    } catch (err) {
      throw failed('PostgreSQL blob store usage', err)
    } finally {
      c.release()
    }
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.pool
      .query<{ hash: string }>(`SELECT hash FROM ${this.s}.blobs WHERE expires_at <= $1`, [now])
      .catch((err: unknown) => {
        throw failed('PostgreSQL blob store purge', err)
      })
    let n = 0
    for (const { hash } of r.rows) if (await this.transaction('purge', (c) => this.deleteWith(c, hash, now))) n++
    return n
  }

  private async deleteWith(c: Pg.PoolClient, hash: string, expiredBy?: number): Promise<boolean> {
    const gone = await c.query(
      `DELETE FROM ${this.s}.blobs WHERE hash = $1${expiredBy !== undefined ? ' AND expires_at <= $2' : ''}`,
      expiredBy !== undefined ? [hash, expiredBy] : [hash],
    )
    if (gone.rowCount === 0) return false
    await c.query(`DELETE FROM ${this.s}.blob_recipients WHERE hash = $1`, [hash])
    await c.query(`DELETE FROM ${this.s}.blob_chunks WHERE hash = $1`, [hash])
    return true
  }

  private async usageWith(c: Pg.PoolClient, recipient: string, now: number): Promise<number> {
    const r = await c.query<{ b: string }>(
      `SELECT coalesce(sum(b.size), 0) AS b FROM ${this.s}.blob_recipients r JOIN ${this.s}.blobs b ON b.hash = r.hash
       WHERE r.recipient = $1 AND b.expires_at > $2`,
      [recipient, now],
    )
    return Number(r.rows[0]?.b ?? 0)
  }

  private async infoWith(c: Pg.PoolClient, hash: string, now: number): Promise<BlobInfo | null> {
    const r = await c.query<Row>(`SELECT * FROM ${this.s}.blobs WHERE hash = $1 AND expires_at > $2`, [hash, now])
    const row = r.rows[0]
    if (!row) return null
    const rec = await c.query<{ recipient: string }>(
      `SELECT recipient FROM ${this.s}.blob_recipients WHERE hash = $1 ORDER BY seq`,
      [hash],
    )
    return {
      hash: row.hash,
      size: Number(row.size),
      held: Number(row.held),
      complete: row.complete,
      uploader: row.uploader,
      recipients: rec.rows.map((x) => x.recipient),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }
  }

  private async connect(what: string): Promise<Pg.PoolClient> {
    try {
      return await this.pool.connect()
    } catch (err) {
      throw failed(`PostgreSQL blob store ${what}`, err)
    }
  }

  private async transaction<T>(what: string, f: (c: Pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.connect(what)
    let broken = false
    try {
      await c.query('BEGIN')
      const out = await f(c)
      await c.query('COMMIT')
      return out
    } catch (err) {
      broken = !(err instanceof CarrierError)
      await c.query('ROLLBACK').catch(() => {})
      // the contract's own refusals (quota, offset, input) pass as they are
      if (err instanceof CarrierError && err.code !== 'ERR_STORE_FAILED') throw err
      throw failed(`PostgreSQL blob store ${what}`, err)
    } finally {
      c.release(broken)
    }
  }
}
