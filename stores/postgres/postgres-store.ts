import { randomUUID } from 'node:crypto'
import type * as Pg from 'pg'
import { loadOptional } from '../../adapters/optional.js'
import {
  DuplicateMessageError,
  type MediationGrant,
  type MessageStore,
  type QueuedMessage,
  type QueueLimits,
  StoreClosedError,
} from '../../src/mediator/store.js'
import {
  checkMessage,
  checkName,
  checkNames,
  hasLimits,
  notifyAll,
  QueueTally,
  rowLimit,
} from '../../src/mediator/store-rules.js'
import type { StoreAdmin } from '../admin.js'
import { failed } from '../errors.js'
import { GroupCommit } from '../group-commit.js'
import { postgresAdmin } from './admin.js'
import { blobSchemaSql, PostgresBlobStore } from './postgres-blobs.js'
import { CHANNEL, checkSchemaName, recipientLock, SCHEMA_LOCK, schemaSql } from './schema.js'

export interface PostgresStoreOptions {
  /** A libpq connection URI (postgresql://user:password@host:port/database). */
  connectionString?: string
  /** Any other node-postgres pool settings (ssl, password, …); `connectionString` wins. */
  pool?: Pg.PoolConfig
  /** Schema holding the tables. Default `carrier`. */
  schema?: string
  /** Connections in the pool, besides the one that LISTENs. Default 10. */
  maxConnections?: number
}

/** A transaction holds at most this many messages and bytes (big envelopes commit in smaller groups). */
const BATCH = { maxItems: 2000, maxBytes: 16 * 1024 * 1024, sizeOf: (w: Write) => w.message.data.length }

interface Write {
  message: QueuedMessage
  limits: QueueLimits | undefined
}

interface Row {
  id: string
  recipient: string
  data: Buffer
  received_at: number
  expires_at: number | null
}

type PgModule = { default: typeof Pg }

/**
 * The MessageStore for several mediator instances sharing one queue: PostgreSQL through
 * node-postgres. Enqueues of one tick go in one transaction (a multi-row insert, one commit); a
 * per-recipient advisory lock makes the quota check atomic across instances; LISTEN/NOTIFY
 * carries `onEnqueued` to every instance.
 */
export class PostgresMessageStore implements MessageStore {
  private readonly listeners = new Set<(recipient: string) => void>()
  private readonly missedListeners = new Set<() => void>()
  private listenedOnce = false
  private readonly writes = new GroupCommit<Write>((batch) => this.commit(batch), BATCH)
  private readonly instance = randomUUID()
  private readonly s: string
  private readonly lockSpace: number
  private listenClient: Pg.Client | undefined
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private backoffMs = 100
  private closed = false
  private lookups: Map<string, { resolve: (client: string | null) => void; reject: (err: unknown) => void }[]> | undefined

  private constructor(
    private readonly pg: typeof Pg,
    private readonly pool: Pg.Pool,
    private readonly poolConfig: Pg.PoolConfig,
    private readonly schema: string,
  ) {
    this.s = `"${schema}"`
    this.lockSpace = recipientLock(schema)
    // an idle connection the server dropped (restart, crash) is reported here; the pool replaces it
    pool.on('error', () => {})
  }

  static async open(options: PostgresStoreOptions = {}): Promise<PostgresMessageStore> {
    const schema = options.schema ?? 'carrier'
    checkSchemaName(schema)
    const mod = await loadOptional<PgModule>('pg', 'The PostgreSQL message store')
    const pg = mod.default
    // a server that does not answer fails the call after 10 s instead of holding it forever
    const config: Pg.PoolConfig = {
      connectionTimeoutMillis: 10_000,
      ...options.pool,
      max: options.maxConnections ?? options.pool?.max ?? 10,
    }
    if (options.connectionString) config.connectionString = options.connectionString
    const pool = new pg.Pool(config)
    const store = new PostgresMessageStore(pg, pool, config, schema)
    try {
      await store.createSchema()
      await store.listen()
    } catch (err) {
      await store.close().catch(() => {})
      throw failed('cannot open the PostgreSQL message store', err)
    }
    return store
  }

  /** The mediator identity kept in this schema, shared by every instance, and a real query for readiness. */
  admin(): StoreAdmin {
    this.open()
    return postgresAdmin(this.pool, this.s)
  }

  private blobStore: PostgresBlobStore | undefined
  /** The blobs kept beside the queue, in chunk rows of this schema: every instance reaches them. */
  blobs(): PostgresBlobStore {
    this.open()
    this.blobStore ??= new PostgresBlobStore(this.pool, this.s)
    return this.blobStore
  }

  async enqueue(message: QueuedMessage, limits?: QueueLimits): Promise<void> {
    this.open()
    checkMessage(message)
    await this.writes.submit({ message, limits })
    notifyAll(this.listeners, message.recipient)
  }

  async count(recipient: string): Promise<{ messages: number; bytes: number }> {
    this.open()
    const r = await this.query<{ n: number; b: number }>(
      'count',
      `SELECT count(*)::int4 AS n, coalesce(sum(size), 0)::float8 AS b FROM ${this.s}.messages
       WHERE recipient = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [recipient, Date.now()],
    )
    const row = r.rows[0] as { n: number; b: number }
    return { messages: row.n, bytes: row.b }
  }

  async peek(recipient: string, limit: number): Promise<QueuedMessage[]> {
    this.open()
    const r = await this.query<Row>(
      'peek',
      `SELECT id, recipient, data, received_at, expires_at FROM ${this.s}.messages
       WHERE recipient = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY seq LIMIT $3`,
      [recipient, Date.now(), rowLimit(limit)],
    )
    return r.rows.map(toMessage)
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    this.open()
    if (ids.length === 0) return 0
    const r = await this.query('delete', `DELETE FROM ${this.s}.messages WHERE recipient = $1 AND id = ANY($2::text[])`, [
      recipient,
      ids.map(String),
    ])
    return r.rowCount ?? 0
  }

  /** Deletes in slices, skipping rows another instance is deleting at the same time (SKIP LOCKED). */
  async purgeExpired(now: number): Promise<number> {
    this.open()
    const slice = 5000
    let removed = 0
    for (;;) {
      const r = await this.query(
        'purge',
        `DELETE FROM ${this.s}.messages WHERE seq IN (
           SELECT seq FROM ${this.s}.messages WHERE expires_at <= $1 ORDER BY seq LIMIT ${slice} FOR UPDATE SKIP LOCKED)`,
        [now],
      )
      removed += r.rowCount ?? 0
      if ((r.rowCount ?? 0) < slice) return removed
    }
  }

  async setGrant(client: string, grant: MediationGrant | null): Promise<void> {
    this.open()
    checkName('client', client)
    if (grant) {
      await this.query(
        'setGrant',
        `INSERT INTO ${this.s}.grants (client, routing_did, granted_at) VALUES ($1, $2, $3)
         ON CONFLICT (client) DO UPDATE SET routing_did = excluded.routing_did, granted_at = excluded.granted_at`,
        [client, grant.routingDid, grant.grantedAt],
      )
      return
    }
    await this.transaction('setGrant', async (c) => {
      await c.query(`DELETE FROM ${this.s}.grants WHERE client = $1`, [client])
      await c.query(`DELETE FROM ${this.s}.keys WHERE client = $1`, [client])
      await c.query(`DELETE FROM ${this.s}.messages WHERE recipient = $1`, [client])
    })
  }

  async grantOf(client: string): Promise<MediationGrant | null> {
    this.open()
    const r = await this.query<{ routing_did: string; granted_at: number }>(
      'grantOf',
      `SELECT routing_did, granted_at FROM ${this.s}.grants WHERE client = $1`,
      [client],
    )
    const row = r.rows[0]
    return row ? { routingDid: row.routing_did, grantedAt: row.granted_at } : null
  }

  async addKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    checkName('client', client)
    checkNames('key', keys)
    if (keys.length === 0) return
    await this.query(
      'addKeys',
      `INSERT INTO ${this.s}.keys (key, client)
       SELECT k, $1 FROM unnest($2::text[]) WITH ORDINALITY AS t(k, o) ORDER BY o
       ON CONFLICT (key) DO NOTHING`,
      [client, [...keys]],
    )
  }

  async removeKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    if (keys.length === 0) return
    await this.query('removeKeys', `DELETE FROM ${this.s}.keys WHERE client = $1 AND key = ANY($2::text[])`, [
      client,
      keys.map(String),
    ])
  }

  async keysOf(client: string): Promise<string[]> {
    this.open()
    const r = await this.query<{ key: string }>('keysOf', `SELECT key FROM ${this.s}.keys WHERE client = $1 ORDER BY seq`, [
      client,
    ])
    return r.rows.map((row) => row.key)
  }

  /**
   * Lookups asked within one tick go in one query (a mediator looks up every forward's recipient:
   * one round trip for many, as enqueues share one commit); exact, nothing is cached.
   */
  async clientOfKey(key: string): Promise<string | null> {
    this.open()
    return new Promise((resolve, reject) => {
      if (!this.lookups) {
        this.lookups = new Map()
        setImmediate(() => void this.lookUp())
      }
      const waiting = this.lookups.get(key)
      if (waiting) waiting.push({ resolve, reject })
      else this.lookups.set(key, [{ resolve, reject }])
    })
  }

  private async lookUp(): Promise<void> {
    const batch = this.lookups as NonNullable<typeof this.lookups>
    this.lookups = undefined
    try {
      const r = await this.query<{ key: string; client: string }>(
        'clientOfKey',
        `SELECT key, client FROM ${this.s}.keys WHERE key = ANY($1::text[])`,
        [[...batch.keys()]],
      )
      const found = new Map(r.rows.map((row) => [row.key, row.client]))
      for (const [k, waiting] of batch) for (const w of waiting) w.resolve(found.get(k) ?? null)
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err)
    }
  }

  onEnqueued(listener: (recipient: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  onMissed(listener: () => void): () => void {
    this.missedListeners.add(listener)
    return () => this.missedListeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writes.flush()
    this.listeners.clear()
    this.missedListeners.clear()
    clearTimeout(this.reconnectTimer)
    const listening = this.listenClient
    this.listenClient = undefined
    await listening?.end().catch(() => {})
    await this.pool.end().catch(() => {})
  }

  private open(): void {
    if (this.closed) throw new StoreClosedError()
  }

  private async query<R extends Pg.QueryResultRow = Pg.QueryResultRow>(
    what: string,
    text: string,
    values: unknown[],
  ): Promise<Pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values)
    } catch (err) {
      throw failed(`PostgreSQL message store ${what}`, err)
    }
  }

  private async transaction<T>(what: string, f: (c: Pg.PoolClient) => Promise<T>): Promise<T> {
    let c: Pg.PoolClient
    try {
      c = await this.pool.connect()
    } catch (err) {
      throw failed(`PostgreSQL message store ${what}`, err)
    }
    let broken = false
    try {
      await c.query('BEGIN')
      const out = await f(c)
      await c.query('COMMIT')
      return out
    } catch (err) {
      broken = true
      await c.query('ROLLBACK').catch(() => {})
      throw failed(`PostgreSQL message store ${what}`, err)
    } finally {
      // a connection that failed mid-transaction may be dead: drop it rather than reuse it
      c.release(broken)
    }
  }

  /** Creates the tables once, even when several instances start together (advisory lock). */
  private async createSchema(): Promise<void> {
    await this.transaction('schema', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::int8)', [SCHEMA_LOCK])
      await c.query(schemaSql(this.s))
      await c.query(blobSchemaSql(this.s))
    })
  }

  /** The connection that LISTENs; when the server drops it, it reconnects with back-off. */
  private async listen(): Promise<void> {
    const client = new this.pg.Client(this.poolConfig)
    client.on('notification', (n) => this.notified(n.payload))
    client.on('error', () => this.lost(client))
    client.on('end', () => this.lost(client))
    this.listenClient = client
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANNEL}`)
      this.backoffMs = 100
      // back after a drop: what other instances enqueued meanwhile was not heard
      if (this.listenedOnce)
        for (const l of this.missedListeners) {
          try {
            l()
          } catch {
            // a listener's failure is its own
          }
        }
      this.listenedOnce = true
    } catch (err) {
      this.lost(client)
      throw err
    }
  }

  private lost(client: Pg.Client): void {
    if (this.closed || this.listenClient !== client) return
    this.listenClient = undefined
    client.end().catch(() => {})
    this.reconnectTimer = setTimeout(() => this.listen().catch(() => {}), this.backoffMs)
    this.backoffMs = Math.min(this.backoffMs * 2, 5000)
  }

  private notified(payload: string | undefined): void {
    if (!payload) return
    const first = payload.indexOf('\n')
    const second = payload.indexOf('\n', first + 1)
    if (first < 0 || second < 0) return
    if (payload.slice(0, first) !== this.schema || payload.slice(first + 1, second) === this.instance) return
    notifyAll(this.listeners, payload.slice(second + 1))
  }

  /**
   * One transaction for the batch: lock every recipient it writes to (sorted, so two instances
   * never deadlock), count the queues that have limits, insert what fits in one statement, NOTIFY.
   */
  private async commit(batch: Write[]): Promise<(Error | undefined)[]> {
    const outcomes: (Error | undefined)[] = new Array(batch.length).fill(undefined)
    const seen = new Set<string>()
    batch.forEach((w, i) => {
      if (seen.has(w.message.id)) outcomes[i] = new DuplicateMessageError(w.message.id)
      seen.add(w.message.id)
    })
    const recipients = [...new Set(batch.map((w) => w.message.recipient))]
    const limited = [...new Set(batch.filter((w) => hasLimits(w.limits)).map((w) => w.message.recipient))]
    const locks = [...new Set(recipients.map(recipientLock))].sort((a, b) => a - b)
    return this.transaction('enqueue', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::int4, k) FROM unnest($2::int4[]) AS k', [this.lockSpace, locks])
      const tallies = new Map<string, QueueTally>()
      if (limited.length > 0) {
        for (const r of limited) tallies.set(r, new QueueTally(r, 0, 0))
        const counts = await c.query<{ recipient: string; n: number; b: number }>(
          `SELECT recipient, count(*)::int4 AS n, coalesce(sum(size), 0)::float8 AS b FROM ${this.s}.messages
           WHERE recipient = ANY($1::text[]) AND (expires_at IS NULL OR expires_at > $2) GROUP BY recipient`,
          [limited, Date.now()],
        )
        for (const row of counts.rows) tallies.set(row.recipient, new QueueTally(row.recipient, row.n, row.b))
      }
      const rows: number[] = []
      batch.forEach((w, i) => {
        if (outcomes[i]) return
        try {
          tallies.get(w.message.recipient)?.admit(w.message.data.length, w.limits)
          rows.push(i)
        } catch (err) {
          outcomes[i] = err as Error
        }
      })
      const ms = rows.map((i) => (batch[i] as Write).message)
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO ${this.s}.messages (id, recipient, data, size, received_at, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int4[], $5::float8[], $6::float8[])
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          ms.map((m) => m.id),
          ms.map((m) => m.recipient),
          ms.map((m) => Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)),
          ms.map((m) => m.data.length),
          ms.map((m) => m.receivedAt),
          ms.map((m) => m.expiresAt ?? null),
        ],
      )
      const stored = new Set(inserted.rows.map((r) => r.id))
      for (const i of rows) {
        const m = (batch[i] as Write).message
        if (!stored.has(m.id)) outcomes[i] = new DuplicateMessageError(m.id)
      }
      const notify = [...new Set(ms.filter((m) => stored.has(m.id)).map((m) => m.recipient))]
      if (notify.length > 0)
        await c.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [
          CHANNEL,
          notify.map((r) => `${this.schema}\n${this.instance}\n${r}`),
        ])
      return outcomes
    })
  }
}

function toMessage(r: Row): QueuedMessage {
  const m: QueuedMessage = { id: r.id, recipient: r.recipient, data: new Uint8Array(r.data), receivedAt: r.received_at }
  if (r.expires_at !== null) m.expiresAt = r.expires_at
  return m
}
