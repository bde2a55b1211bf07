import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchBlob, pendingShares } from '../../adapters/fs/blob-fetch.js'
import { sendViaMediator } from '../../adapters/fs/send-via-mediator.js'
import { blobAccess, uploadBlob } from '../../adapters/http/blob-client.js'
import { createRoutedPeerDid } from '../../src/agent/mediation.js'
import type { Agent } from '../../src/agent.js'
import { type EncryptedShare, shareMessage } from '../../src/files/share.js'
import { newStreamParams, sealAll } from '../../src/files/stream-aead.js'
import { didPeerResolver } from '../../src/index.js'
import { tempDir } from '../support/temp.js'
import { bytes, hashOf } from './blob-conformance.js'
import { blobMediator, mediatedRecipient, plainSender } from './support.js'

let m: Awaited<ReturnType<typeof blobMediator>>
let sender: Agent
let bob: Agent

beforeAll(async () => {
  m = await blobMediator()
  sender = await plainSender()
  bob = await mediatedRecipient(m.did)
})
afterAll(async () => {
  for (const a of [sender, bob]) await a?.close()
  await m?.close()
})

/** Uploads `cipher` for bob and returns the share-media naming it (with `over` changing what it claims). */
async function shared(plain: Uint8Array, o: { tamper?: (c: Uint8Array) => void; over?: Partial<EncryptedShare> } = {}) {
  const params = newStreamParams(1024)
  const cipher = sealAll(params, plain)
  o.tamper?.(cipher)
  const hash = hashOf(cipher)
  await uploadBlob({
    access: blobAccess(sender, m.did, { op: 'put', hash, size: cipher.length, recipients: [bob.did] }),
    size: cipher.length,
    source: async function* (offset) {
      yield cipher.subarray(offset)
    },
  })
  const share: EncryptedShare = {
    id: crypto.randomUUID(),
    filename: 'data.bin',
    mediaType: 'application/octet-stream',
    plainBytes: plain.length,
    plainSha256: hashOf(plain),
    cipherBytes: cipher.length,
    cipherSha256: hash,
    params,
    links: [`${m.url}blobs/${hash}`],
    ...o.over,
  }
  return { message: shareMessage(share), hash }
}

const fetchInto = (
  dir: string,
  message: ReturnType<typeof shareMessage>,
  hash: string,
  signal?: AbortSignal,
  onProgress?: (n: number) => void,
) =>
  fetchBlob({
    dir,
    message,
    from: sender.did,
    access: blobAccess(bob, m.did, { op: 'get', hash }),
    backoff: { baseMs: 10, maxMs: 50 },
    signal,
    onProgress,
  })

/** Nothing but temp names in the folder: no file was renamed into place. */
const placed = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.'))

describe('fetching a blob into a folder (adapters/fs/blob-fetch.ts)', () => {
  it('resumes after the receiver stopped midway from the whole segments on disk, then confirms', async () => {
    const dir = tempDir('carrier-fetch-')
    const plain = bytes(300_000, 31)
    const { message, hash } = await shared(plain)
    const stop = new AbortController()
    await expect(fetchInto(dir, message, hash, stop.signal, (n) => n >= 100_000 && stop.abort())).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
    expect(placed(dir)).toEqual([])
    const pending = await pendingShares(dir)
    expect(pending.map((p) => p.message.id)).toEqual([message.id])
    const partial = readdirSync(dir).find((f) => f.endsWith('.partial')) as string
    expect(readFileSync(join(dir, partial)).length % 1024).toBe(0)
    const got = await fetchInto(dir, pending[0]?.message as typeof message, hash)
    expect(got).toMatchObject({ name: 'data.bin', bytes: plain.length })
    expect(readFileSync(join(dir, 'data.bin')).equals(Buffer.from(plain))).toBe(true)
    expect(readdirSync(dir)).toEqual(['data.bin'])
    expect(await m.blobs.info(hash)).toBeNull()
  })

  it('refuses a flipped byte in a segment: ERR_FILE_INTEGRITY, nothing placed, the partial gone', async () => {
    const dir = tempDir('carrier-fetch-')
    const { message, hash } = await shared(bytes(5000, 32), { tamper: (c) => void (c[2000] = (c[2000] as number) ^ 1) })
    await expect(fetchInto(dir, message, hash)).rejects.toMatchObject({ code: 'ERR_FILE_INTEGRITY' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses a wrong key: ERR_FILE_INTEGRITY, nothing placed', async () => {
    const dir = tempDir('carrier-fetch-')
    const { message, hash } = await shared(bytes(5000, 33), { over: { params: newStreamParams(1024) } })
    await expect(fetchInto(dir, message, hash)).rejects.toMatchObject({ code: 'ERR_FILE_INTEGRITY' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses a share whose plaintext hash does not match what decrypts: nothing placed', async () => {
    const dir = tempDir('carrier-fetch-')
    const { message, hash } = await shared(bytes(5000, 34), { over: { plainSha256: 'ab'.repeat(32) } })
    await expect(fetchInto(dir, message, hash)).rejects.toMatchObject({ code: 'ERR_FILE_INTEGRITY' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('drops a share the mediator refuses for good (the blob is gone), so a restart does not try again', async () => {
    const dir = tempDir('carrier-fetch-')
    const { message, hash } = await shared(bytes(5000, 35))
    await m.blobs.delete(hash)
    await expect(fetchInto(dir, message, hash)).rejects.toMatchObject({ problemCode: 'e.p.req.unknown-blob' })
    expect(readdirSync(dir)).toEqual([])
    expect(existsSync(dir)).toBe(true)
  })

  it('sendViaMediator: encrypts once, uploads, queues the share; the recipient fetches it byte-exact', async () => {
    const dir = tempDir('carrier-send-')
    const file = join(dir, 'photo.jpg')
    const plain = bytes(200_000, 36)
    writeFileSync(file, plain)
    const q = await sendViaMediator(sender, didPeerResolver, file, { to: bob.did, mediaType: 'image/jpeg' })
    expect(q).toMatchObject({ filename: 'photo.jpg', bytes: plain.length, sha256: hashOf(plain), mediator: m.did })
    expect((await m.blobs.info(q.cipherSha256))?.complete).toBe(true)
    // the share waits in bob's queue at the mediator
    const queued = await m.mediator.store.peek(bob.did, 10)
    expect(queued).toHaveLength(1)
    const got: { id: string; message: Parameters<typeof fetchBlob>[0]['message'] }[] = []
    const pickup = (async () => {
      for await (const { message } of bob.messages()) {
        got.push({ id: message.id, message })
        return
      }
    })()
    const { MediationClient } = await import('../../src/agent/mediation.js')
    const client = await MediationClient.request(bob, m.did)
    await client.drain()
    await pickup
    const into = tempDir('carrier-recv-')
    const f = await fetchInto(into, got[0]?.message as Parameters<typeof fetchBlob>[0]['message'], q.cipherSha256)
    expect(readFileSync(join(into, f.name)).equals(Buffer.from(plain))).toBe(true)
    expect(await m.blobs.info(q.cipherSha256)).toBeNull()
  })

  it('sendViaMediator refuses a recipient the mediator does not know, and one not behind a mediator', async () => {
    const dir = tempDir('carrier-send-')
    const file = join(dir, 'x.bin')
    writeFileSync(file, bytes(100, 37))
    const stranger = createRoutedPeerDid(m.did).did
    await expect(sendViaMediator(sender, didPeerResolver, file, { to: stranger })).rejects.toMatchObject({
      problemCode: 'e.p.msg.unknown-recipient',
    })
    await expect(sendViaMediator(sender, didPeerResolver, file, { to: sender.did })).rejects.toMatchObject({
      code: 'ERR_NOT_MEDIATED',
    })
  })
})
