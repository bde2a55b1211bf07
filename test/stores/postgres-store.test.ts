import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storeConformanceSuite } from '../../src/testing/store-conformance.js'
import { openStore } from '../../stores/index.js'
import { PostgresMessageStore } from '../../stores/postgres/index.js'
import { havePostgres, PostgresServer } from '../support/postgres.js'
import { expectAcknowledgedStored, startProducer } from '../support/store-durability.js'
import { RECIPIENT } from '../support/store-messages.js'

describe.runIf(havePostgres())('PostgresMessageStore on a real PostgreSQL 15', () => {
  let server: PostgresServer
  beforeAll(async () => {
    server = await PostgresServer.start()
  })
  afterAll(async () => {
    await server?.stop()
  })
  let n = 0
  storeConformanceSuite(
    'PostgresMessageStore',
    () => PostgresMessageStore.open({ connectionString: server.url, schema: `conformance_${++n}` }),
    { secondInstance: async () => PostgresMessageStore.open({ connectionString: server.url, schema: `conformance_${n}` }) },
  )

  it('opens postgres:// and postgresql:// URIs with ?schema=, and refuses a bad schema name', async () => {
    const a = await openStore(`${server.url}?schema=uri_a`)
    const b = await openStore(`${server.url.replace('postgresql://', 'postgres://')}?schema=uri_a`)
    const other = await openStore(`${server.url}?schema=uri_b`)
    try {
      expect(a).toBeInstanceOf(PostgresMessageStore)
      await a.enqueue({ id: 'u1', recipient: 'r', data: new Uint8Array([0, 1]), receivedAt: 1 })
      expect((await b.peek('r', 5)).map((m) => m.id)).toEqual(['u1'])
      expect(await other.peek('r', 5)).toEqual([])
    } finally {
      for (const s of [a, b, other]) await s.close()
    }
    await expect(openStore(`${server.url}?schema=Robert%27);DROP`)).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
    await expect(openStore('postgres://[bad')).rejects.toMatchObject({ code: 'ERR_STORE_URI' })
  })

  it('says ERR_STORE_FAILED when no server answers', async () => {
    const closedPort = server.port === 1 ? 2 : 1
    await expect(
      PostgresMessageStore.open({ connectionString: `postgresql://postgres@127.0.0.1:${closedPort}/postgres` }),
    ).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
  })

  it('creates the schema once when several instances open together', async () => {
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => PostgresMessageStore.open({ connectionString: server.url, schema: 'together' })),
    )
    await stores[0]?.enqueue({ id: 't1', recipient: 'r', data: new Uint8Array([9]), receivedAt: 1 })
    for (const s of stores) expect((await s.peek('r', 5)).map((m) => m.id)).toEqual(['t1'])
    for (const s of stores) await s.close()
  })

  it('hands a message enqueued by another process to this one: onEnqueued fires here, peek and delete work here', async () => {
    const here = await PostgresMessageStore.open({ connectionString: server.url, schema: 'two_processes' })
    try {
      const signalled: string[] = []
      here.onEnqueued((r) => signalled.push(r))
      const producer = startProducer(`${server.url}?schema=two_processes`, 40, 4, 'p')
      expect(await producer.exited).toBe(0)
      const ids = producer.acknowledged()
      expect(ids.length).toBe(40)
      while (!signalled.includes(RECIPIENT)) await new Promise((r) => setTimeout(r, 10))
      await expectAcknowledgedStored(here, ids)
      expect(await here.delete(RECIPIENT, ids)).toBe(40)
      expect(await here.count(RECIPIENT)).toEqual({ messages: 0, bytes: 0 })
    } finally {
      await here.close()
    }
  })

  it('loses nothing acknowledged when the server crashes mid-stream (pg_ctl -m immediate stop), and recovers', async () => {
    const uri = `${server.url}?schema=crash`
    const watcher = await PostgresMessageStore.open({ connectionString: server.url, schema: 'crash' })
    const producer = startProducer(uri, 1_000_000, 64, 'c')
    let missed = 0
    watcher.onMissed(() => missed++)
    try {
      await producer.printed(1500)
      await server.crash()
      await producer.exited
      const acknowledged = producer.acknowledged()
      expect(acknowledged.length).toBeGreaterThanOrEqual(1500)
      await expect(watcher.count(RECIPIENT)).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
      await server.startServer()

      const reopened = await PostgresMessageStore.open({ connectionString: server.url, schema: 'crash' })
      try {
        await expectAcknowledgedStored(reopened, acknowledged)
        // the store that lived through the crash works again, and LISTENs again
        const seen: string[] = []
        watcher.onEnqueued((r) => seen.push(r))
        expect((await watcher.count(RECIPIENT)).messages).toBeGreaterThanOrEqual(acknowledged.length)
        for (let i = 0; !seen.includes('after-crash'); i++) {
          await reopened.enqueue({ id: `after-${i}`, recipient: 'after-crash', data: new Uint8Array([i & 255]), receivedAt: i })
          await new Promise((r) => setTimeout(r, 100))
        }
        // LISTEN came back after a gap: its holder was told to look at its live sessions' queues again
        expect(missed).toBeGreaterThanOrEqual(1)
        await watcher.enqueue({ id: 'from-watcher', recipient: 'after-crash', data: new Uint8Array([1]), receivedAt: 1 })
        expect((await reopened.peek('after-crash', 1000)).map((m) => m.id)).toContain('from-watcher')
      } finally {
        await reopened.close()
      }
    } finally {
      await producer.kill()
      await watcher.close()
    }
  })
})
