import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobAccess, confirmBlob, downloadBlob, uploadBlob } from '../../adapters/http/blob-client.js'
import type { Agent } from '../../src/agent.js'
import { ProblemReportError } from '../../src/protocols/report-problem.js'
import { bytes, hashOf } from './blob-conformance.js'
import { blobMediator, mediatedRecipient, plainSender } from './support.js'

const QUOTA = 3 * 1024 * 1024
const MAX_BLOB = 2 * 1024 * 1024

let m: Awaited<ReturnType<typeof blobMediator>>
let sender: Agent
let alice: Agent
let bob: Agent

beforeAll(async () => {
  m = await blobMediator({ limits: { maxBytesPerRecipient: QUOTA, maxBlobBytes: MAX_BLOB } })
  sender = await plainSender()
  alice = await mediatedRecipient(m.did)
  bob = await mediatedRecipient(m.did)
})
afterAll(async () => {
  for (const a of [sender, alice, bob]) await a?.close()
  await m?.close()
})

const source = (data: Uint8Array) =>
  async function* (offset: number) {
    for (let at = offset; at < data.length; at += 100_000) yield data.subarray(at, Math.min(data.length, at + 100_000))
  }

async function upload(data: Uint8Array, recipients: string[]) {
  const hash = hashOf(data)
  const access = blobAccess(sender, m.did, { op: 'put', hash, size: data.length, recipients })
  await uploadBlob({ access, size: data.length, source: source(data), requestBytes: 256 * 1024 })
  return { hash, grant: await access() }
}

async function download(agent: Agent, hash: string, size: number, start = 0): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of downloadBlob({ access: blobAccess(agent, m.did, { op: 'get', hash }), size, start }))
    parts.push(Buffer.from(c.bytes))
  return Buffer.concat(parts)
}

/** The server still answers: a named recipient's HEAD of a complete blob. */
async function stillUp(): Promise<void> {
  const res = await fetch(`${m.url}blobs/${'0'.repeat(64)}`, { method: 'HEAD' })
  expect(res.status).toBe(401)
}

describe('blobs at a mediator over HTTP', () => {
  it('uploads in several PUTs, serves the named recipient by Range, and deletes the blob once it confirmed', async () => {
    const data = bytes(1_000_000, 21)
    const { hash, grant } = await upload(data, [alice.did])
    expect(grant.url).toBe(`${m.url}blobs/${hash}`)
    expect((await download(alice, hash, data.length)).equals(Buffer.from(data))).toBe(true)
    expect((await download(alice, hash, data.length, 654_321)).equals(Buffer.from(data.subarray(654_321)))).toBe(true)
    await confirmBlob({ access: blobAccess(alice, m.did, { op: 'get', hash }) })
    expect(await m.blobs.info(hash)).toBeNull()
    // a second download is refused: the mediator no longer has it
    await expect(download(alice, hash, data.length)).rejects.toMatchObject({ problemCode: 'e.p.req.unknown-blob' })
  })

  it('refuses an upload over the recipient quota with 507 (blob-access refuses it first)', async () => {
    const first = bytes(MAX_BLOB, 22)
    const { hash } = await upload(first, [bob.did])
    const second = bytes(MAX_BLOB, 23)
    const put = blobAccess(sender, m.did, { op: 'put', hash: hashOf(second), size: second.length, recipients: [bob.did] })
    await expect(put()).rejects.toMatchObject({ problemCode: 'e.p.msg.quota-exceeded' })
    // a put token issued before the first upload filled the quota: the HTTP endpoint refuses by itself
    const token = m.tokens.issue({
      op: 'put',
      hash: hashOf(second),
      did: sender.did,
      exp: Date.now() + 60_000,
      size: second.length,
      recipients: [bob.did],
    })
    const res = await fetch(`${m.url}blobs/${hashOf(second)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-range': `bytes 0-${second.length - 1}/${second.length}` },
      body: Buffer.from(second),
    })
    expect(res.status).toBe(507)
    expect(await res.json()).toMatchObject({ error: 'ERR_BLOB_QUOTA' })
    expect(await m.blobs.info(hashOf(second))).toBeNull()
    await m.blobs.delete(hash)
    await stillUp()
  })

  it('refuses a blob over the size limit: 413 at the endpoint, too-big at blob-access', async () => {
    const size = MAX_BLOB + 1
    const hash = 'ab'.repeat(32)
    await expect(blobAccess(sender, m.did, { op: 'put', hash, size, recipients: [alice.did] })()).rejects.toMatchObject({
      problemCode: 'e.p.msg.too-big',
    })
    const token = m.tokens.issue({ op: 'put', hash, did: sender.did, exp: Date.now() + 60_000, size, recipients: [alice.did] })
    const res = await fetch(`${m.url}blobs/${hash}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-range': `bytes 0-9/${size}` },
      body: new Uint8Array(10),
    })
    expect(res.status).toBe(413)
    await stillUp()
  })

  it('deletes an upload whose bytes do not hash to its name, with 422', async () => {
    const data = bytes(300_000, 24)
    const hash = hashOf(bytes(300_000, 25))
    const access = blobAccess(sender, m.did, { op: 'put', hash, size: data.length, recipients: [alice.did] })
    const err = await uploadBlob({ access, size: data.length, source: source(data) }).catch((e) => e)
    expect(err).toMatchObject({ status: 422, code: 'ERR_BLOB_HASH_MISMATCH' })
    expect(await m.blobs.info(hash)).toBeNull()
    await stillUp()
  })

  it('refuses a download by a DID the uploader did not name: no token, and 403 for a token naming it', async () => {
    const data = bytes(10_000, 26)
    const { hash } = await upload(data, [alice.did])
    const asked = await blobAccess(bob, m.did, { op: 'get', hash })().catch((e) => e)
    expect(asked).toBeInstanceOf(ProblemReportError)
    expect(asked).toMatchObject({ problemCode: 'e.p.req.not-named' })
    // a valid get token for bob (as if issued for another blob's rules) still gets 403 at the endpoint
    const token = m.tokens.issue({ op: 'get', hash, did: bob.did, exp: Date.now() + 60_000 })
    for (const method of ['GET', 'HEAD', 'DELETE']) {
      const res = await fetch(`${m.url}blobs/${hash}`, { method, headers: { authorization: `Bearer ${token}` } })
      expect(res.status).toBe(403)
    }
    // the uploader's put token does not download either
    const put = m.tokens.issue({
      op: 'put',
      hash,
      did: sender.did,
      exp: Date.now() + 60_000,
      size: 10_000,
      recipients: [alice.did],
    })
    expect((await fetch(`${m.url}blobs/${hash}`, { headers: { authorization: `Bearer ${put}` } })).status).toBe(403)
    expect((await download(alice, hash, data.length)).equals(Buffer.from(data))).toBe(true)
    await stillUp()
  })

  it('answers 401 to no token, a forged one, an expired one and one for another blob 403', async () => {
    const data = bytes(1000, 27)
    const { hash } = await upload(data, [alice.did])
    const url = `${m.url}blobs/${hash}`
    const get = (token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
    expect((await get()).status).toBe(401)
    expect((await get('garbage')).status).toBe(401)
    const good = m.tokens.issue({ op: 'get', hash, did: alice.did, exp: Date.now() + 60_000 })
    const [body, mac] = good.split('.') as [string, string]
    const forged = `${Buffer.from(JSON.stringify({ op: 'get', hash, did: bob.did, exp: Date.now() + 60_000 })).toString('base64url')}.${mac}`
    expect((await get(forged)).status).toBe(401)
    expect((await get(`${body}.${mac.slice(0, -2)}AA`)).status).toBe(401)
    const expired = m.tokens.issue({ op: 'get', hash, did: alice.did, exp: Date.now() - 1 })
    const res = await get(expired)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'ERR_BLOB_TOKEN' })
    const other = m.tokens.issue({ op: 'get', hash: 'cd'.repeat(32), did: alice.did, exp: Date.now() + 60_000 })
    expect((await get(other)).status).toBe(403)
    expect((await get(good)).status).toBe(200)
    await stillUp()
  })

  it('refuses bad Range and Content-Range headers and bad names with a clear 4xx', async () => {
    const data = bytes(5000, 28)
    const { hash } = await upload(data, [alice.did])
    const url = `${m.url}blobs/${hash}`
    const get = m.tokens.issue({ op: 'get', hash, did: alice.did, exp: Date.now() + 60_000 })
    const range = async (r: string) => (await fetch(url, { headers: { authorization: `Bearer ${get}`, range: r } })).status
    expect(await range('bytes=0-99')).toBe(206)
    expect(await range('bytes=-100')).toBe(206)
    expect(await range('bytes=5000-')).toBe(416)
    expect(await range('bytes=10-5')).toBe(416)
    expect(await range('bytes=0-1,5-6')).toBe(400)
    expect(await range('items=0-1')).toBe(400)
    expect(await range('bytes=-')).toBe(400)
    expect(await range(`bytes=${'9'.repeat(40)}-`)).toBe(400)

    const other = bytes(5000, 29)
    const h2 = hashOf(other)
    const put = m.tokens.issue({
      op: 'put',
      hash: h2,
      did: sender.did,
      exp: Date.now() + 60_000,
      size: 5000,
      recipients: [alice.did],
    })
    const putWith = async (headers: Record<string, string>, body: Uint8Array = other.subarray(0, 100)) =>
      (
        await fetch(`${m.url}blobs/${h2}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${put}`, ...headers },
          body: Buffer.from(body),
        })
      ).status
    expect(await putWith({})).toBe(400)
    expect(await putWith({ 'content-range': 'bytes 0-99/4999' })).toBe(400)
    expect(await putWith({ 'content-range': 'bytes 99-0/5000' })).toBe(400)
    expect(await putWith({ 'content-range': 'bytes 0-5000/5000' })).toBe(400)
    expect(await putWith({ 'content-range': 'bytes 0-199/5000' })).toBe(400) // body shorter than its range
    expect(await putWith({ 'content-range': 'bytes 100-199/5000' })).toBe(409) // not where the held bytes end
    expect(await putWith({ 'content-range': 'bytes 0-99/5000' })).toBe(200)
    const bad = async (path: string, method = 'GET') =>
      (await fetch(`${m.url}blobs/${path}`, { method, headers: { authorization: `Bearer ${get}` } })).status
    expect(await bad('xyz')).toBe(400)
    expect(await bad(hash.toUpperCase())).toBe(400)
    expect(await bad(`${hash}/../x`)).toBe(400)
    expect(await bad(hash, 'PATCH')).toBe(405)
    expect(m.refused.length).toBeGreaterThan(10)
    await stillUp()
  })

  it('forgets a blob at its TTL: no token, 404 for a token issued before, its bytes purged', async () => {
    const short = await blobMediator({ limits: { expirySeconds: 1 } })
    const up = await plainSender()
    const carol = await mediatedRecipient(short.did)
    try {
      const data = bytes(2000, 30)
      const hash = hashOf(data)
      await uploadBlob({
        access: blobAccess(up, short.did, { op: 'put', hash, size: data.length, recipients: [carol.did] }),
        size: data.length,
        source: source(data),
      })
      const token = short.tokens.issue({ op: 'get', hash, did: carol.did, exp: Date.now() + 60_000 })
      // expired 1 s after its first PUT (the store's clock; no bound on how slowly the test got here)
      await new Promise((r) => setTimeout(r, 1100))
      expect((await fetch(`${short.url}blobs/${hash}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404)
      await expect(blobAccess(carol, short.did, { op: 'get', hash })()).rejects.toMatchObject({
        problemCode: 'e.p.req.unknown-blob',
      })
      expect(await short.blobs.purgeExpired(Date.now())).toBe(1)
    } finally {
      for (const a of [up, carol]) await a.close()
      await short.close()
    }
  })
})
