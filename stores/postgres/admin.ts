import type * as Pg from 'pg'
import { parseIdentity, type StoreAdmin } from '../admin.js'
import { failed } from '../errors.js'
import { SCHEMA_LOCK } from './schema.js'

/**
 * The identity in a one-row table of the queue's schema: every instance on the database serves
 * the same DID. Two instances starting together both insert-if-absent; the primary key makes the
 * second wait for the first and keep its row, so they end with one identity.
 */
export function postgresAdmin(pool: Pg.Pool, s: string): StoreAdmin {
  const run = async <R extends Pg.QueryResultRow>(what: string, text: string, values: unknown[] = []) => {
    try {
      return await pool.query<R>(text, values)
    } catch (err) {
      throw failed(`PostgreSQL message store ${what}`, err)
    }
  }
  let ready: Promise<unknown> | undefined
  const table = () => {
    ready ??= (async () => {
      const c = await pool.connect().catch((err: unknown) => {
        throw failed('PostgreSQL message store identity', err)
      })
      try {
        await c.query('BEGIN')
        await c.query('SELECT pg_advisory_xact_lock($1::int8)', [SCHEMA_LOCK])
        await c.query(`CREATE TABLE IF NOT EXISTS ${s}.mediator_identity (
          one int PRIMARY KEY CHECK (one = 1), did text NOT NULL, identity text NOT NULL, created_at float8 NOT NULL)`)
        await c.query('COMMIT')
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {})
        ready = undefined
        throw failed('PostgreSQL message store identity', err)
      } finally {
        c.release()
      }
    })()
    return ready
  }
  return {
    durable: true,
    async keepIdentity(candidate) {
      await table()
      await run(
        'identity',
        `INSERT INTO ${s}.mediator_identity (one, did, identity, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (one) DO NOTHING`,
        [candidate.did, JSON.stringify(candidate), Date.now()],
      )
      const r = await run<{ identity: string }>('identity', `SELECT identity FROM ${s}.mediator_identity WHERE one = 1`)
      return parseIdentity(r.rows[0]?.identity as string)
    },
    async replaceIdentity(identity) {
      await table()
      await run(
        'identity',
        `INSERT INTO ${s}.mediator_identity (one, did, identity, created_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (one) DO UPDATE SET did = EXCLUDED.did, identity = EXCLUDED.identity, created_at = EXCLUDED.created_at`,
        [identity.did, JSON.stringify(identity), Date.now()],
      )
    },
    async depth() {
      const r = await run<{ n: number; b: number }>(
        'depth',
        `SELECT count(*)::int8::float8 AS n, coalesce(sum(size), 0)::float8 AS b FROM ${s}.messages
         WHERE expires_at IS NULL OR expires_at > $1`,
        [Date.now()],
      )
      return { messages: Number(r.rows[0]?.n ?? 0), bytes: Number(r.rows[0]?.b ?? 0) }
    },
  }
}
