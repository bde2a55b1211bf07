import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { storeConformanceSuite } from '../../src/testing/store-conformance.js'
import { SqliteMessageStore } from '../../stores/sqlite/index.js'
import { expectAcknowledgedStored, startProducer } from '../support/store-durability.js'

const dir = mkdtempSync(join(tmpdir(), 'carrier-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

storeConformanceSuite('SqliteMessageStore', () => SqliteMessageStore.open(join(dir, `store-${++n}.db`)), {
  secondInstance: async () => SqliteMessageStore.open(join(dir, `store-${n}.db`)),
  signalsAcrossInstances: false,
})

describe('SqliteMessageStore durability', () => {
  it('opens in WAL mode with synchronous = FULL, or NORMAL when asked', async () => {
    type Pragmas = { db: { pragma(p: string, o: { simple: true }): unknown } }
    const full = await SqliteMessageStore.open(join(dir, 'pragmas-full.db'))
    const normal = await SqliteMessageStore.open(join(dir, 'pragmas-normal.db'), { synchronous: 'NORMAL' })
    const db = (s: SqliteMessageStore) => (s as unknown as Pragmas).db
    expect(db(full).pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db(full).pragma('synchronous', { simple: true })).toBe(2)
    expect(db(normal).pragma('synchronous', { simple: true })).toBe(1)
    await full.close()
    await normal.close()
  })

  it('keeps every message whose enqueue resolved when the process is killed with SIGKILL mid-stream', async () => {
    const file = join(dir, 'killed.db')
    const producer = startProducer(`sqlite:${file}`, 100_000, 64, 'k')
    await producer.printed(2000)
    await producer.kill()
    const acknowledged = producer.acknowledged()
    expect(acknowledged.length).toBeGreaterThanOrEqual(2000)
    expect(acknowledged.length).toBeLessThan(100_000)
    const store = await SqliteMessageStore.open(file)
    try {
      await expectAcknowledgedStored(store, acknowledged)
    } finally {
      await store.close()
    }
  })
})
