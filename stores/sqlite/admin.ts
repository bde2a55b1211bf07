import { chmodSync, existsSync } from 'node:fs'
import type BetterSqlite3 from 'better-sqlite3'
import { parseIdentity, type StoreAdmin } from '../admin.js'
import { failed } from '../errors.js'

const IDENTITY_TABLE = `
CREATE TABLE IF NOT EXISTS mediator_identity (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  did TEXT NOT NULL,
  identity TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`

/**
 * The identity in a table of the queue's own database (one file to back up). The file then holds
 * private keys: it and its WAL are made readable by the owner only (0600).
 */
export function sqliteAdmin(db: BetterSqlite3.Database): StoreAdmin {
  const guard = <T>(what: string, f: () => T): T => {
    try {
      return f()
    } catch (err) {
      throw failed(`SQLite message store ${what}`, err)
    }
  }
  const ownerOnly = () => {
    for (const f of [db.name, `${db.name}-wal`, `${db.name}-shm`]) if (existsSync(f)) chmodSync(f, 0o600)
  }
  let ready = false
  const table = () => {
    if (ready) return
    db.exec(IDENTITY_TABLE)
    ready = true
  }
  return {
    durable: true,
    async keepIdentity(candidate) {
      return guard('identity', () => {
        table()
        ownerOnly()
        db.prepare('INSERT OR IGNORE INTO mediator_identity (one, did, identity, created_at) VALUES (1, ?, ?, ?)').run(
          candidate.did,
          JSON.stringify(candidate),
          Date.now(),
        )
        const row = db.prepare('SELECT identity FROM mediator_identity WHERE one = 1').get() as { identity: string }
        return parseIdentity(row.identity)
      })
    },
    async replaceIdentity(identity) {
      guard('identity', () => {
        table()
        ownerOnly()
        db.prepare('INSERT OR REPLACE INTO mediator_identity (one, did, identity, created_at) VALUES (1, ?, ?, ?)').run(
          identity.did,
          JSON.stringify(identity),
          Date.now(),
        )
      })
    },
    async depth() {
      return guard('depth', () => {
        const r = db
          .prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM messages WHERE expires_at IS NULL OR expires_at > ?')
          .get(Date.now()) as { n: number; b: number }
        return { messages: r.n, bytes: r.b }
      })
    },
  }
}
