import type BetterSqlite3 from 'better-sqlite3'
import type { QueuedMessage, QueueLimits } from '../../src/mediator/store.js'
import { hasLimits, QueueTally } from '../../src/mediator/store-rules.js'
import { SCHEMA } from './schema.js'

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

type StatementName =
  | 'insert'
  | 'count'
  | 'peek'
  | 'delete'
  | 'purge'
  | 'dropQueue'
  | 'putGrant'
  | 'grant'
  | 'dropGrant'
  | 'addKey'
  | 'removeKey'
  | 'dropKeysOf'
  | 'keysOf'
  | 'clientOf'

/** A connection to the store's file: WAL, the synchronous setting asked for, the schema in place. */
export function openDatabase(Database: typeof BetterSqlite3, file: string, options: SqliteStoreOptions): BetterSqlite3.Database {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`)
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
    db.exec(SCHEMA)
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

export function statements(db: BetterSqlite3.Database): Record<StatementName, BetterSqlite3.Statement> {
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

/** Why a message of a batch was not stored; undefined: stored. */
export type BatchOutcome = undefined | { kind: 'quota' | 'duplicate'; message: string }

/** One transaction for the batch: quota per recipient as the batch grows, one commit (one fsync). */
export function commitBatch(
  db: BetterSqlite3.Database,
  sql: Record<StatementName, BetterSqlite3.Statement>,
  batch: { message: QueuedMessage; limits: QueueLimits | undefined }[],
): BatchOutcome[] {
  const now = Date.now()
  const tallies = new Map<string, QueueTally>()
  const tally = (recipient: string) => {
    let t = tallies.get(recipient)
    if (!t) {
      const r = sql.count.get(recipient, now) as { n: number; b: number }
      tallies.set(recipient, (t = new QueueTally(recipient, r.n, r.b)))
    }
    return t
  }
  const write = db.transaction(() =>
    batch.map(({ message: m, limits }) => {
      const t = hasLimits(limits) || tallies.has(m.recipient) ? tally(m.recipient) : undefined
      try {
        t?.admit(m.data.length, limits)
      } catch (err) {
        return { kind: 'quota' as const, message: (err as Error).message }
      }
      const inserted = sql.insert.run(m.id, m.recipient, m.data, m.data.length, m.receivedAt, m.expiresAt ?? null).changes
      if (inserted === 1) return undefined
      if (t) {
        t.messages -= 1
        t.bytes -= m.data.length
      }
      return { kind: 'duplicate' as const, message: m.id }
    }),
  )
  return write.immediate()
}
