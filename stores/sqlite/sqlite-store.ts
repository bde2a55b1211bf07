import { once } from 'node:events'
import type { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import { loadOptional } from '../../adapters/optional.js'
import { startWorker } from '../../adapters/threads/start-worker.js'
import {
  DuplicateMessageError,
  type MediationGrant,
  type MessageStore,
  type QueuedMessage,
  type QueueLimits,
  QuotaExceededError,
  StoreClosedError,
} from '../../src/mediator/store.js'
import { checkMessage, checkName, checkNames, notifyAll, rowLimit } from '../../src/mediator/store-rules.js'
import type { StoreAdmin } from '../admin.js'
import { failed } from '../errors.js'
import { GroupCommit } from '../group-commit.js'
import { sqliteAdmin } from './admin.js'
import { openDatabase, type SqliteStoreOptions, statements } from './database.js'
import { SqliteBlobStore } from './sqlite-blobs.js'
import type { WriterAnswer, WriterData, WriterRequest, WriterWork } from './writer.js'

export type { SqliteStoreOptions } from './database.js'

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
 * The embedded MessageStore: one SQLite file in WAL mode (better-sqlite3). Enqueues and deletes are
 * committed by a writer on a worker thread (stores/sqlite/writer.ts), so a commit's fsync never
 * holds the event loop; the enqueues that arrive while one commits go together in the next
 * transaction (group commit, one fsync for many), each resolving after it committed. Reads, and
 * the rare writes (grants, keys, purge), use this thread's connection.
 * Several processes may open the same file safely, but `onEnqueued` fires only in the process
 * that enqueued; use PostgreSQL for several mediator instances.
 */
export class SqliteMessageStore implements MessageStore {
  private readonly listeners = new Set<(recipient: string) => void>()
  private readonly writes = new GroupCommit<Write>((batch) => this.commit(batch), BATCH)
  private closed = false
  private readonly sql: ReturnType<typeof statements>
  private readonly waiting = new Map<number, (a: WriterAnswer) => void>()
  private seq = 0
  private writerGone: Error | undefined

  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly writer: Worker,
  ) {
    this.sql = statements(db)
    writer.on('message', (a: WriterAnswer) => {
      const settle = this.waiting.get(a.seq)
      this.waiting.delete(a.seq)
      if (this.waiting.size === 0) writer.unref()
      settle?.(a)
    })
    const gone = (err: Error) => {
      this.writerGone ??= err
      for (const [seq, settle] of this.waiting) settle({ seq, error: err.message })
      this.waiting.clear()
    }
    writer.on('error', gone)
    writer.on('exit', (code) => gone(new Error(`the writer thread exited (${code})`)))
    writer.unref()
  }

  /** Opens (creating if needed) the store in this file. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteMessageStore> {
    const mod = await loadOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'The SQLite message store')
    let db: BetterSqlite3.Database | undefined
    let writer: Worker | undefined
    try {
      db = openDatabase(mod.default, file, options)
      writer = startWorker('./writer', import.meta.url, { file, options } satisfies WriterData)
      const [ready] = (await Promise.race([once(writer, 'message'), once(writer, 'error').then(([e]) => Promise.reject(e))])) as [
        unknown,
      ]
      if (ready !== 'ready') throw new Error('the writer thread did not start')
      return new SqliteMessageStore(db, writer)
    } catch (err) {
      await writer?.terminate()
      db?.close()
      throw failed(`cannot open the SQLite message store ${file}`, err)
    }
  }

  /** Sends a request to the writer thread; resolves to its answer (an error answer rejects). */
  private ask(r: WriterWork): Promise<WriterAnswer> {
    const writer = this.writer
    if (this.writerGone) return Promise.reject(failed('SQLite message store writer', this.writerGone))
    const seq = ++this.seq
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, (a) => ('error' in a ? reject(failed('SQLite message store write', new Error(a.error))) : resolve(a)))
      // while a write is under way the thread keeps the process alive: the caller waits for its answer
      writer.ref()
      writer.postMessage({ ...r, seq } satisfies WriterRequest)
    })
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
    const a = await this.ask({ kind: 'delete', recipient, ids: ids.map(String) })
    return 'changes' in a ? a.changes : 0
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
    if (!this.writerGone) {
      const exited = once(this.writer, 'exit')
      this.writer.ref() // the process waits for the writer to close its connection
      this.writer.postMessage('close')
      await exited
    }
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

  /** One transaction for the batch on the writer thread: quota per recipient as the batch grows, one commit (one fsync). */
  private async commit(batch: Write[]): Promise<(Error | undefined)[]> {
    const a = await this.ask({ kind: 'enqueue', batch })
    if (!('outcomes' in a)) throw failed('SQLite message store enqueue', new Error('no outcomes'))
    return a.outcomes.map((o) =>
      o === undefined ? undefined : o.kind === 'quota' ? new QuotaExceededError(o.message) : new DuplicateMessageError(o.message),
    )
  }
}

function toMessage(r: Row): QueuedMessage {
  const data = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)
  const m: QueuedMessage = { id: r.id, recipient: r.recipient, data, receivedAt: r.received_at }
  if (r.expires_at !== null) m.expiresAt = r.expires_at
  return m
}
