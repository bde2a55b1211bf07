import type BetterSqlite3 from 'better-sqlite3'
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
import { sqliteAdmin } from './admin.js'
import { SCHEMA } from './schema.js'
import { SqliteBlobStore } from './sqlite-blobs.js'

export interface SqliteStoreOptions {
  /**
   * `FULL` (default): a committed message survives a power cut as well as `kill -9`. `NORMAL`
   * (WAL's usual setting) survives `kill -9` of the process but may lose the last commits if the
   * machine loses power; it saves one fsync per commit.
   */
  synchronous?: 'FULL' | 'NORMAL'
  /** How long a write waits for another process holding the file's write lock. Default 5 s. */
  busyTimeoutMs?: number
}

interface Row {
  id: string
  recipient: string
  data: Uint8Array
  received_at: number
  expires_at: number | null
}

/** A transaction holds at most this many messages and bytes (big envelopes commit in smaller groups). */
const BATCH = { maxItems: 2000, maxBytes: 16 * 1024 * 1024, sizeOf: (w: Write) => w.message.data.length }

interface Write {
  message: QueuedMessage
  limits: QueueLimits | undefined
}

/**
 * The embedded MessageStore: one SQLite file in WAL mode (better-sqlite3). Enqueues that arrive
 * together are written in one transaction (group commit), each resolving after it committed.
 * Several processes may open the same file safely, but `onEnqueued` fires only in the process
 * that enqueued; use PostgreSQL for several mediator instances.
 */
export class SqliteMessageStore implements MessageStore {
  private readonly listeners = new Set<(recipient: string) => void>()
  private readonly writes = new GroupCommit<Write>((batch) => this.commit(batch), BATCH)
  private closed = false
  private readonly sql: ReturnType<typeof statements>

  private constructor(private readonly db: BetterSqlite3.Database) {
    this.sql = statements(db)
  }

  /** Opens (creating if needed) the store in this file. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteMessageStore> {
    const mod = await loadOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'The SQLite message store')
    let db: BetterSqlite3.Database | undefined
    try {
      db = new mod.default(file)
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`)
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
      db.exec(SCHEMA)
      return new SqliteMessageStore(db)
    } catch (err) {
      db?.close()
      throw failed(`cannot open the SQLite message store ${file}`, err)
    }
  }

  /** The mediator identity kept in this database, and a real query for readiness (stores/admin.ts). */
  admin(): StoreAdmin {
    this.open()
    return sqliteAdmin(this.db)
  }

  private blobStore: SqliteBlobStore | undefined
  /** The blobs kept beside the queue: their bytes in the folder FILE.blobs/, their rows in this database. */
  blobs(): SqliteBlobStore {
    this.open()
    this.blobStore ??= new SqliteBlobStore(this.db, `${this.db.name}.blobs`)
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
    const r = this.sql.count.get(recipient, Date.now()) as { n: number; b: number }
    return { messages: r.n, bytes: r.b }
  }

  async peek(recipient: string, limit: number): Promise<QueuedMessage[]> {
    this.open()
    const rows = this.sql.peek.all(recipient, Date.now(), rowLimit(limit)) as Row[]
    return rows.map(toMessage)
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    this.open()
    if (ids.length === 0) return 0
    return this.run('delete', () => this.sql.delete.run(recipient, JSON.stringify(ids)).changes)
  }

  async purgeExpired(now: number): Promise<number> {
    this.open()
    return this.run('purge', () => this.sql.purge.run(now).changes)
  }

  async setGrant(client: string, grant: MediationGrant | null): Promise<void> {
    this.open()
    checkName('client', client)
    this.run('setGrant', () =>
      this.db.transaction(() => {
        if (grant) {
          this.sql.putGrant.run(client, grant.routingDid, grant.grantedAt)
          return
        }
        this.sql.dropGrant.run(client)
        this.sql.dropKeysOf.run(client)
        this.sql.dropQueue.run(client)
      })(),
    )
  }

  async grantOf(client: string): Promise<MediationGrant | null> {
    this.open()
    const r = this.sql.grant.get(client) as { routing_did: string; granted_at: number } | undefined
    return r ? { routingDid: r.routing_did, grantedAt: r.granted_at } : null
  }

  async addKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    checkName('client', client)
    checkNames('key', keys)
    this.run('addKeys', () =>
      this.db.transaction(() => {
        for (const k of keys) this.sql.addKey.run(k, client)
      })(),
    )
  }

  async removeKeys(client: string, keys: readonly string[]): Promise<void> {
    this.open()
    this.run('removeKeys', () =>
      this.db.transaction(() => {
        for (const k of keys) this.sql.removeKey.run(k, client)
      })(),
    )
  }

  async keysOf(client: string): Promise<string[]> {
    this.open()
    return (this.sql.keysOf.all(client) as { key: string }[]).map((r) => r.key)
  }

  async clientOfKey(key: string): Promise<string | null> {
    this.open()
    const r = this.sql.clientOf.get(key) as { client: string } | undefined
    return r?.client ?? null
  }

  onEnqueued(listener: (recipient: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writes.flush()
    this.listeners.clear()
    this.db.close()
  }

  private open(): void {
    if (this.closed) throw new StoreClosedError()
  }

  private run<T>(what: string, f: () => T): T {
    try {
      return f()
    } catch (err) {
      throw failed(`SQLite message store ${what}`, err)
    }
  }

  /** One transaction for the batch: quota per recipient as the batch grows, one commit (one fsync). */
  private async commit(batch: Write[]): Promise<(Error | undefined)[]> {
    const now = Date.now()
    const tallies = new Map<string, QueueTally>()
    const tally = (recipient: string) => {
      let t = tallies.get(recipient)
      if (!t) {
        const r = this.sql.count.get(recipient, now) as { n: number; b: number }
        tallies.set(recipient, (t = new QueueTally(recipient, r.n, r.b)))
      }
      return t
    }
    const write = this.db.transaction(() =>
      batch.map(({ message: m, limits }): Error | undefined => {
        const t = hasLimits(limits) || tallies.has(m.recipient) ? tally(m.recipient) : undefined
        try {
          t?.admit(m.data.length, limits)
        } catch (err) {
          return err as Error
        }
        const inserted = this.sql.insert.run(m.id, m.recipient, m.data, m.data.length, m.receivedAt, m.expiresAt ?? null).changes
        if (inserted === 1) return undefined
        if (t) {
          t.messages -= 1
          t.bytes -= m.data.length
        }
        return new DuplicateMessageError(m.id)
      }),
    )
    return this.run('enqueue', () => write.immediate())
  }
}

function statements(db: BetterSqlite3.Database) {
  const live = 'recipient = ? AND (expires_at IS NULL OR expires_at > ?)'
  return {
    insert: db.prepare(
      'INSERT INTO messages (id, recipient, data, size, received_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    count: db.prepare(`SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM messages WHERE ${live}`),
    peek: db.prepare(`SELECT id, recipient, data, received_at, expires_at FROM messages WHERE ${live} ORDER BY seq LIMIT ?`),
    delete: db.prepare('DELETE FROM messages WHERE recipient = ? AND id IN (SELECT value FROM json_each(?))'),
    purge: db.prepare('DELETE FROM messages WHERE expires_at <= ?'),
    dropQueue: db.prepare('DELETE FROM messages WHERE recipient = ?'),
    putGrant: db.prepare(
      'INSERT INTO grants (client, routing_did, granted_at) VALUES (?, ?, ?) ON CONFLICT (client) DO UPDATE SET routing_did = excluded.routing_did, granted_at = excluded.granted_at',
    ),
    grant: db.prepare('SELECT routing_did, granted_at FROM grants WHERE client = ?'),
    dropGrant: db.prepare('DELETE FROM grants WHERE client = ?'),
    addKey: db.prepare('INSERT INTO keys (key, client) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    removeKey: db.prepare('DELETE FROM keys WHERE key = ? AND client = ?'),
    dropKeysOf: db.prepare('DELETE FROM keys WHERE client = ?'),
    keysOf: db.prepare('SELECT key FROM keys WHERE client = ? ORDER BY rowid'),
    clientOf: db.prepare('SELECT client FROM keys WHERE key = ?'),
  }
}

function toMessage(r: Row): QueuedMessage {
  const data = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)
  const m: QueuedMessage = { id: r.id, recipient: r.recipient, data, receivedAt: r.received_at }
  if (r.expires_at !== null) m.expiresAt = r.expires_at
  return m
}
