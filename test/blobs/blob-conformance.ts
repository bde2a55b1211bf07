import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { BlobStore, NewBlob } from '../../src/mediator/blob-store.js'
import { seededBytes } from '../../src/testing/prng.js'

export const hashOf = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export const bytes = (n: number, seed = 1): Uint8Array => seededBytes(n, seed)

export function newBlob(data: Uint8Array, o: Partial<NewBlob> = {}): NewBlob {
  const now = Date.now()
  return {
    hash: hashOf(data),
    size: data.length,
    uploader: 'did:ex:up',
    recipients: ['did:ex:r1'],
    createdAt: now,
    expiresAt: now + 60_000,
    ...o,
  }
}

async function readAll(s: BlobStore, hash: string, start: number, end: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of s.read(hash, start, end)) parts.push(Uint8Array.from(c))
  return Uint8Array.from(Buffer.concat(parts))
}

/** What every BlobStore promises (src/mediator/blob-store.ts), against a fresh store each test. */
export function blobStoreSuite(name: string, open: () => Promise<{ store: BlobStore; close: () => Promise<void> }>): void {
  describe(`${name} (BlobStore contract)`, () => {
    const withStore = (f: (s: BlobStore) => Promise<void>) => async () => {
      const { store, close } = await open()
      try {
        await f(store)
      } finally {
        await close()
      }
    }

    it(
      'takes a blob in appends at the bytes held and serves any range of it',
      withStore(async (s) => {
        const data = bytes(300_000)
        const b = newBlob(data)
        expect((await s.create(b)).held).toBe(0)
        expect(await s.append(b.hash, 0, data.subarray(0, 100_000))).toBe(100_000)
        expect(await s.append(b.hash, 100_000, data.subarray(100_000))).toBe(300_000)
        await s.complete(b.hash)
        const info = await s.info(b.hash)
        expect(info).toMatchObject({ held: 300_000, size: 300_000, complete: true, recipients: ['did:ex:r1'] })
        expect(Buffer.from(await readAll(s, b.hash, 0, 300_000)).equals(Buffer.from(data))).toBe(true)
        expect(Buffer.from(await readAll(s, b.hash, 123_457, 250_001)).equals(Buffer.from(data.subarray(123_457, 250_001)))).toBe(
          true,
        )
      }),
    )

    it(
      'refuses an append at another offset than the bytes held, or past the size, and changes nothing',
      withStore(async (s) => {
        const data = bytes(1000, 2)
        const b = newBlob(data)
        await s.create(b)
        await s.append(b.hash, 0, data.subarray(0, 400))
        await expect(s.append(b.hash, 0, data.subarray(0, 400))).rejects.toMatchObject({ code: 'ERR_BLOB_OFFSET', held: 400 })
        await expect(s.append(b.hash, 500, data.subarray(500))).rejects.toMatchObject({ code: 'ERR_BLOB_OFFSET', held: 400 })
        await expect(s.append(b.hash, 400, bytes(601, 3))).rejects.toMatchObject({ code: 'ERR_BLOB_OFFSET' })
        expect((await s.info(b.hash))?.held).toBe(400)
        await expect(s.append('0'.repeat(64), 0, data)).rejects.toMatchObject({ code: 'ERR_BLOB_NOT_FOUND' })
      }),
    )

    it(
      'lets one of two appends at the same offset win',
      withStore(async (s) => {
        const data = bytes(2000, 4)
        const b = newBlob(data)
        await s.create(b)
        const r = await Promise.allSettled([
          s.append(b.hash, 0, data.subarray(0, 1000)),
          s.append(b.hash, 0, data.subarray(0, 1000)),
        ])
        expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(1)
        expect((await s.info(b.hash))?.held).toBe(1000)
      }),
    )

    it(
      'counts declared sizes against each recipient quota and refuses over it',
      withStore(async (s) => {
        const limits = { maxBytesPerRecipient: 1500 }
        const a = newBlob(bytes(1000, 5), { recipients: ['did:ex:q1', 'did:ex:q2'] })
        await s.create(a, limits)
        expect(await s.usage('did:ex:q1')).toBe(1000)
        await expect(s.create(newBlob(bytes(600, 6), { recipients: ['did:ex:q2'] }), limits)).rejects.toMatchObject({
          code: 'ERR_BLOB_QUOTA',
        })
        await s.create(newBlob(bytes(500, 7), { recipients: ['did:ex:q2'] }), limits)
        expect(await s.usage('did:ex:q2')).toBe(1500)
        // creating one that exists is no new use
        expect((await s.create(a, limits)).hash).toBe(a.hash)
      }),
    )

    it(
      'releases recipients one by one and deletes the blob with the last',
      withStore(async (s) => {
        const data = bytes(100, 8)
        const b = newBlob(data, { recipients: ['did:ex:a', 'did:ex:b'] })
        await s.create(b)
        await s.append(b.hash, 0, data)
        await s.complete(b.hash)
        expect(await s.release(b.hash, 'did:ex:a')).toBe(false)
        expect((await s.info(b.hash))?.recipients).toEqual(['did:ex:b'])
        expect(await s.release(b.hash, 'did:ex:b')).toBe(true)
        expect(await s.info(b.hash)).toBeNull()
        expect(await s.usage('did:ex:b')).toBe(0)
      }),
    )

    it(
      'forgets an expired blob and purges it',
      withStore(async (s) => {
        const data = bytes(100, 9)
        const b = newBlob(data, { expiresAt: Date.now() + 50 })
        await s.create(b)
        await new Promise((r) => setTimeout(r, 80))
        expect(await s.info(b.hash)).toBeNull()
        expect(await s.usage('did:ex:r1')).toBe(0)
        expect(await s.purgeExpired(Date.now())).toBe(1)
      }),
    )

    it(
      'refuses bad input with ERR_STORE_INPUT',
      withStore(async (s) => {
        const b = newBlob(bytes(10, 10))
        await expect(s.create({ ...b, hash: 'ABC' })).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
        await expect(s.create({ ...b, size: -1 })).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
        await expect(s.create({ ...b, recipients: [] })).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
        await s.create(b)
        await expect(async () => {
          for await (const _ of s.read(b.hash, 0, 11)) void _
        }).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
      }),
    )
  })
}
