// The SQLite store's writer, on a worker thread of its own: enqueues are committed here, on a
// connection of this thread, so a commit's fsync never holds the event loop, and what arrives while
// one commits goes into the next (group commit). Reads stay on the main thread's connection (WAL).

import { parentPort, workerData } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import { loadOptional } from '../../adapters/optional.js'
import type { QueuedMessage, QueueLimits } from '../../src/mediator/store.js'
import { type BatchOutcome, commitBatch, openDatabase, type SqliteStoreOptions, statements } from './database.js'

export interface WriterData {
  file: string
  options: SqliteStoreOptions
}

/** A batch to commit (one transaction), or a delete. */
export type WriterWork =
  | { kind: 'enqueue'; batch: { message: QueuedMessage; limits: QueueLimits | undefined }[] }
  | { kind: 'delete'; recipient: string; ids: string[] }
export type WriterRequest = WriterWork & { seq: number }

/** Per message: undefined (stored), or why not (quota, duplicate); or the whole request failed. */
export type WriterAnswer =
  | { seq: number; outcomes: BatchOutcome[] }
  | { seq: number; changes: number }
  | { seq: number; error: string }

const data = workerData as WriterData
const mod = await loadOptional<{ default: typeof BetterSqlite3 }>('better-sqlite3', 'The SQLite message store')
const db = openDatabase(mod.default, data.file, data.options)
const sql = statements(db)
const port = parentPort as NonNullable<typeof parentPort>

port.on('message', (r: WriterRequest | 'close') => {
  if (r === 'close') {
    db.close()
    port.close()
    return
  }
  try {
    if (r.kind === 'enqueue') port.postMessage({ seq: r.seq, outcomes: commitBatch(db, sql, r.batch) } satisfies WriterAnswer)
    else
      port.postMessage({ seq: r.seq, changes: sql.delete.run(r.recipient, JSON.stringify(r.ids)).changes } satisfies WriterAnswer)
  } catch (err) {
    port.postMessage({ seq: r.seq, error: err instanceof Error ? err.message : String(err) } satisfies WriterAnswer)
  }
})
port.postMessage('ready')
