import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MemoryMessageStore } from '../src/mediator/memory-store.js'
import type { MessageStore } from '../src/mediator/store.js'
import { seededBytes } from '../src/testing/prng.js'
import { PostgresMessageStore } from '../stores/postgres/index.js'
import { SqliteMessageStore } from '../stores/sqlite/index.js'
import { havePostgres, PostgresServer } from '../test/support/postgres.js'
import { emit, median } from './lib.js'

/**
 * Enqueue rate of 1 KB messages into the durable stores from 64 concurrent producers, each against
 * the plain way to write the same bytes with the same driver in the same run (single-row
 * autocommit inserts), runs alternating; and the process's memory after 10,000 queued messages
 * against the in-memory store holding the same ones.
 */
const RUNS = 5
const PRODUCERS = 64
const MESSAGES = 10_000
const SIZE = 1024
const payload = seededBytes(SIZE, 1)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let serial = 0
async function produce(store: MessageStore, count: number): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < count) {
        next++
        const data = new Uint8Array(payload)
        data[0] = serial & 255
        await store.enqueue({ id: `b-${serial++}`, recipient: `did:example:r${serial % 16}`, data, receivedAt: Date.now() })
      }
    }),
  )
  return count / ((performance.now() - t0) / 1000)
}

/** Runs `ours` and `base` alternately; the figure's ratio is the median of the per-pair ratios. */
async function paired(ours: () => Promise<number>, base: () => Promise<number>) {
  const a: number[] = []
  const b: number[] = []
  const ratios: number[] = []
  for (let i = 0; i < RUNS; i++) {
    let v: number
    let y: number
    if (i % 2 === 0) {
      v = await ours()
      y = await base()
    } else {
      y = await base()
      v = await ours()
    }
    a.push(v)
    b.push(y)
    ratios.push(v / y)
  }
  return { value: median(a), baseline: median(b), ratio: median(ratios) }
}

function memory(): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function heapAfter(open: () => Promise<MessageStore>): Promise<number> {
  const store = await open()
  const before = memory()
  await produce(store, MESSAGES)
  const after = memory()
  await store.close()
  return (after - before) / 1024 / 1024
}

async function sqliteBench(dir: string): Promise<void> {
  let n = 0
  const file = () => join(dir, `bench-${++n}.db`)
  const Database = (await import('better-sqlite3')).default
  const rawAutocommit = async () => {
    const db = new Database(file())
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('CREATE TABLE m (id TEXT PRIMARY KEY, recipient TEXT NOT NULL, data BLOB NOT NULL)')
    const insert = db.prepare('INSERT INTO m VALUES (?, ?, ?)')
    const count = 2000
    const t0 = performance.now()
    for (let i = 0; i < count; i++) insert.run(`raw-${i}`, 'did:example:r', new Uint8Array(payload))
    const rate = count / ((performance.now() - t0) / 1000)
    db.close()
    return rate
  }
  const ours = async () => {
    const store = await SqliteMessageStore.open(file())
    const rate = await produce(store, MESSAGES)
    await store.close()
    return rate
  }
  const r = await paired(ours, rawAutocommit)
  emit({
    name: 'stores.sqlite.enqueue-rate.1KB',
    value: r.value,
    unit: 'msg/s',
    baseline: { name: 'better-sqlite3 single-row autocommit inserts, same pragmas', value: r.baseline },
    ratio: r.ratio,
    params: { producers: PRODUCERS, messages: MESSAGES, synchronous: 'FULL', journal: 'WAL', runs: RUNS },
  })
  const heap = await heapAfter(() => SqliteMessageStore.open(file()))
  const inMemory = await heapAfter(async () => new MemoryMessageStore())
  emit({
    name: 'stores.sqlite.memory-after-10000-queued',
    value: heap,
    unit: 'MB (heapUsed + arrayBuffers growth)',
    baseline: { name: 'MemoryMessageStore holding the same messages', value: inMemory },
    params: { messages: MESSAGES, size: SIZE },
  })
}

async function postgresBench(): Promise<void> {
  if (!havePostgres()) {
    console.log(
      JSON.stringify({ name: 'stores.postgres', skipped: 'PostgreSQL 15 is not installed (apt-get install postgresql)' }),
    )
    return
  }
  const server = await PostgresServer.start()
  const pg = (await import('pg')).default
  let n = 0
  try {
    const rawSingle = async () => {
      const pool = new pg.Pool({ connectionString: server.url, max: 10 })
      const table = `raw_${++n}`
      await pool.query(`CREATE TABLE ${table} (id text PRIMARY KEY, recipient text NOT NULL, data bytea NOT NULL)`)
      const count = 4000
      let next = 0
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          while (next < count) {
            const i = next++
            await pool.query(`INSERT INTO ${table} VALUES ($1, $2, $3)`, [`raw-${i}`, 'did:example:r', Buffer.from(payload)])
          }
        }),
      )
      const rate = count / ((performance.now() - t0) / 1000)
      await pool.end()
      return rate
    }
    const ours = async () => {
      const store = await PostgresMessageStore.open({ connectionString: server.url, schema: `bench_${++n}` })
      const rate = await produce(store, MESSAGES)
      await store.close()
      return rate
    }
    const r = await paired(ours, rawSingle)
    emit({
      name: 'stores.postgres.enqueue-rate.1KB',
      value: r.value,
      unit: 'msg/s',
      baseline: { name: 'pg single-row autocommit inserts, pool of 10, same concurrency', value: r.baseline },
      ratio: r.ratio,
      params: { producers: PRODUCERS, messages: MESSAGES, postgres: 15, fsync: 'on', synchronous_commit: 'on', runs: RUNS },
    })
    const heap = await heapAfter(() => PostgresMessageStore.open({ connectionString: server.url, schema: `bench_${++n}` }))
    const inMemory = await heapAfter(async () => new MemoryMessageStore())
    emit({
      name: 'stores.postgres.memory-after-10000-queued',
      value: heap,
      unit: 'MB (heapUsed + arrayBuffers growth)',
      baseline: { name: 'MemoryMessageStore holding the same messages', value: inMemory },
      params: { messages: MESSAGES, size: SIZE },
    })
  } finally {
    await server.stop()
  }
}

export async function storesBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-stores-'))
  try {
    await sqliteBench(dir)
    await postgresBench()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
