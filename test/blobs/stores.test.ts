import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBlobStore } from '../../src/mediator/memory-blob-store.js'
import { blobStoreFor, MemoryMessageStore, openStore } from '../../stores/index.js'
import { PostgresMessageStore } from '../../stores/postgres/index.js'
import { SqliteMessageStore } from '../../stores/sqlite/index.js'
import { havePostgres, PostgresServer } from '../support/postgres.js'
import { tempDir } from '../support/temp.js'
import { blobStoreSuite, bytes, newBlob } from './blob-conformance.js'

blobStoreSuite('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), close: async () => {} }))

const dir = tempDir('carrier-blobs-')
let n = 0
blobStoreSuite('SqliteBlobStore', async () => {
  const q = await SqliteMessageStore.open(join(dir, `s${++n}.db`))
  return { store: q.blobs(), close: () => q.close() }
})

describe('SqliteBlobStore on disk', () => {
  it('keeps the bytes in FILE.blobs/ named by hash, and what is known of them across a reopening', async () => {
    const file = join(dir, 'reopen.db')
    const data = bytes(200_000, 11)
    const b = newBlob(data)
    let q = await SqliteMessageStore.open(file)
    await q.blobs().create(b)
    await q.blobs().append(b.hash, 0, data.subarray(0, 70_000))
    await q.close()
    expect(readdirSync(`${file}.blobs`)).toEqual([b.hash])
    q = await SqliteMessageStore.open(file)
    try {
      expect(await q.blobs().info(b.hash)).toMatchObject({ held: 70_000, size: 200_000, complete: false })
      await q.blobs().append(b.hash, 70_000, data.subarray(70_000))
      await q.blobs().complete(b.hash)
      expect(await q.blobs().release(b.hash, 'did:ex:r1')).toBe(true)
      expect(existsSync(join(`${file}.blobs`, b.hash))).toBe(false)
    } finally {
      await q.close()
    }
  })

  it('gives every store its blob store: SQLite its folder, memory one in memory', async () => {
    const s = await openStore(`sqlite:${join(dir, 'open.db')}`)
    expect(blobStoreFor(s).constructor.name).toBe('SqliteBlobStore')
    await s.close()
    expect(blobStoreFor(new MemoryMessageStore())).toBeInstanceOf(MemoryBlobStore)
  })
})

describe.runIf(havePostgres())('PostgresBlobStore on a real PostgreSQL 15', () => {
  let server: PostgresServer
  beforeAll(async () => {
    server = await PostgresServer.start()
  })
  afterAll(async () => {
    await server?.stop()
  })
  let k = 0
  blobStoreSuite('PostgresBlobStore', async () => {
    const q = await PostgresMessageStore.open({ connectionString: server.url, schema: `blobs_${++k}` })
    return { store: q.blobs(), close: () => q.close() }
  })

  it('resumes in one instance an upload another instance received, and serves it from a third', async () => {
    const open = () => PostgresMessageStore.open({ connectionString: server.url, schema: 'shared_blobs' })
    const [a, b, c] = [await open(), await open(), await open()]
    try {
      const data = bytes(3 * 1024 * 1024 + 17, 12)
      const blob = newBlob(data)
      await a.blobs().create(blob)
      await a.blobs().append(blob.hash, 0, data.subarray(0, 1_500_000))
      expect((await b.blobs().info(blob.hash))?.held).toBe(1_500_000)
      await b.blobs().append(blob.hash, 1_500_000, data.subarray(1_500_000))
      await b.blobs().complete(blob.hash)
      const parts: Uint8Array[] = []
      for await (const p of c.blobs().read(blob.hash, 1_000_000, data.length)) parts.push(Uint8Array.from(p))
      expect(Buffer.concat(parts).equals(Buffer.from(data.subarray(1_000_000)))).toBe(true)
    } finally {
      for (const s of [a, b, c]) await s.close()
    }
  })
})
