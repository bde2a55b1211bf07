import { createHash } from 'node:crypto'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BLOB_LINK_SCHEME, FolderReceiver, type ReceivedFile, sendFile } from '../../adapters/fs/index.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { MEDIA_BLOB, newChunk } from '../../src/files/blob-chunk.js'
import { shareMessage } from '../../src/files/share.js'
import { newStreamParams, type StreamParams, sealAll } from '../../src/files/stream-aead.js'
import { type Agent, createAgent, createPeerDid, didPeerResolver } from '../../src/index.js'
import { FILE_STATUS, type FileStatus, parseStatus } from '../../src/protocols/file-transfer.js'
import { seededBytes } from '../../src/testing/prng.js'
import { tempDir } from '../support/temp.js'

/**
 * Hostile blob input (issue 29): each case sends a real authcrypt share-media and then crafted
 * chunks as the real sender would put them on the link. Each ends in a typed error at the
 * receiver's onError, nothing renamed into place, and the receiver still takes a good file after.
 */
let broker: EmbeddedBroker
let dir: string
const agents: Agent[] = []
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
  dir = tempDir('carrier-blob-hostile-')
})
afterAll(async () => {
  for (const a of agents) await a.close()
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function agentOnMqtt(name: string, onError?: (e: unknown) => void): Promise<Agent> {
  const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
  const identity = createPeerDid({ service: { uri: endpoint } })
  const transport = await mqttEndpointTransport({ endpoint, clientId: `${name}-${process.pid}` })
  const agent = createAgent({ identity, resolver: didPeerResolver, transports: [transport], onError })
  agents.push(agent)
  return agent
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const SEG = 1024

/** Alice, a receiving Bob with his errors and files, Mallory; and the statuses Alice hears. */
async function setup(name: string) {
  const errors: { code?: string; message: string }[] = []
  const files: ReceivedFile[] = []
  const alice = await agentOnMqtt(`alice-${name}`)
  const bob = await agentOnMqtt(`bob-${name}`, (e) => errors.push(e as { code?: string; message: string }))
  const mallory = await agentOnMqtt(`mallory-${name}`)
  const out = join(dir, name)
  const receiver = new FolderReceiver(
    { dir: out },
    (status, to) => bob.send(status, { to }),
    (e) => {
      if (e.kind === 'file') files.push(e.file)
    },
  )
  await receiver.init()
  receiver.attach(bob)
  bob.receive()
  const statuses: FileStatus[] = []
  alice.addHandler(async ({ message }) => {
    // seen, and left for sendFile's own handler (added later) when stillUp() sends a good file
    if (message.type === FILE_STATUS) statuses.push(parseStatus(message))
    return false
  })
  alice.receive()
  /** Shares `plain` as encrypted with `params` (the share may lie about the key or the hash); waits for Bob's answer. */
  const share = async (
    plain: Uint8Array,
    o: { params?: StreamParams; sharedParams?: StreamParams; plainSha256?: string } = {},
  ) => {
    const params = o.params ?? newStreamParams(SEG)
    const cipher = sealAll(params, plain)
    const id = `hostile-${name}-${statuses.length}`
    const cipherSha256 = sha(cipher)
    const m = shareMessage({
      id,
      filename: `${name}.bin`,
      mediaType: 'application/octet-stream',
      plainBytes: plain.length,
      plainSha256: o.plainSha256 ?? sha(plain),
      cipherBytes: cipher.length,
      cipherSha256,
      params: o.sharedParams ?? params,
      links: [`${BLOB_LINK_SCHEME}${cipherSha256}`],
    })
    await alice.send(m, { to: bob.did, returnRoute: 'all' })
    await expect.poll(() => statuses.some((s) => s.answers === m.id)).toBe(true)
    return { cipher, cipherSha256, id }
  }
  const chunk = (blob: string, first: number, sealed: Uint8Array) => {
    const c = newChunk(blob, first, sealed.length)
    c.set(sealed, c.length - sealed.length)
    return c
  }
  const sendChunk = (from: Agent, bytes: Uint8Array) => from.sendBytes(bytes, { to: bob.did, mediaType: MEDIA_BLOB })
  /** Nothing but temp files in Bob's folder, and Bob still takes a good file from Alice. */
  const stillUp = async () => {
    expect(files).toEqual([])
    expect(readdirSync(out).filter((n) => !n.startsWith('.carrier-'))).toEqual([])
    const path = join(dir, `${name}-good.bin`)
    const data = seededBytes(5000, 99)
    writeFileSync(path, data)
    const r = await sendFile(alice, path, { to: bob.did })
    expect(r.sha256).toBe(sha(data))
    expect(files.map((f) => f.name)).toEqual([`${name}-good.bin`])
  }
  return { alice, bob, mallory, errors, statuses, share, chunk, sendChunk, stillUp }
}

const plain = seededBytes(5 * SEG + 100, 7) // 6 segments, the last of 100 bytes
const SEALED = SEG + 16

describe('hostile blob input at a FolderReceiver', () => {
  it('a flipped byte in a segment: ERR_FILE_INTEGRITY, the segment not written', async () => {
    const t = await setup('flip')
    const { cipher, cipherSha256 } = await t.share(plain)
    const bad = cipher.slice()
    bad[2 * SEALED + 10] = (bad[2 * SEALED + 10] as number) ^ 1
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, bad))
    await expect.poll(() => t.errors.map((e) => e.code)).toContain('ERR_FILE_INTEGRITY')
    expect(t.errors.find((e) => e.code === 'ERR_FILE_INTEGRITY')?.message).toMatch(/segment 2 does not verify/)
    await t.stillUp()
  })

  it('two segments swapped: ERR_FILE_INTEGRITY (the counter in the nonce)', async () => {
    const t = await setup('swap')
    const { cipher, cipherSha256 } = await t.share(plain)
    const bad = cipher.slice()
    bad.set(cipher.subarray(SEALED, 2 * SEALED), 0)
    bad.set(cipher.subarray(0, SEALED), SEALED)
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, bad))
    await expect.poll(() => t.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/segment 0 does not verify/))
    await t.stillUp()
  })

  it('truncated ciphertext (the last segment cut short): ERR_FILE_INTEGRITY, never complete', async () => {
    const t = await setup('truncated')
    const { cipher, cipherSha256 } = await t.share(plain)
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, cipher.subarray(0, cipher.length - 10)))
    await expect.poll(() => t.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/ends inside segment 5/))
    expect(t.errors.every((e) => e.code === 'ERR_FILE_INTEGRITY')).toBe(true)
    await t.stillUp()
  })

  it('extended ciphertext (bytes after the last segment): ERR_FILE_INTEGRITY', async () => {
    const t = await setup('extended')
    const { cipher, cipherSha256 } = await t.share(plain)
    const longer = new Uint8Array(cipher.length + SEALED)
    longer.set(cipher)
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, longer))
    await expect.poll(() => t.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/past the last segment/))
    await t.stillUp()
  })

  it('a wrong key in the share: ERR_FILE_INTEGRITY on the first segment', async () => {
    const t = await setup('wrongkey')
    const params = newStreamParams(SEG)
    const { cipher, cipherSha256 } = await t.share(plain, {
      params,
      sharedParams: { ...newStreamParams(SEG), prefix: params.prefix },
    })
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, cipher))
    await expect.poll(() => t.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/segment 0 does not verify/))
    await t.stillUp()
  })

  it('a share whose plaintext SHA-256 does not match: every segment verifies, the file is discarded, the sender told', async () => {
    const t = await setup('badhash')
    const { cipher, cipherSha256, id } = await t.share(plain, { plainSha256: sha(seededBytes(10, 1)) })
    await t.sendChunk(t.alice, t.chunk(cipherSha256, 0, cipher))
    await expect.poll(() => t.errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/SHA-256 does not match/))
    expect(t.errors.every((e) => e.code === 'ERR_FILE_INTEGRITY')).toBe(true)
    await expect.poll(() => t.statuses.find((s) => s.transferId === id && s.refused)?.refused).toMatch(/does not match/)
    await t.stillUp()
  })

  it('chunks for a blob nobody shared, and for a shared blob from another sender: ERR_BLOB_UNKNOWN, dropped', async () => {
    const t = await setup('unknown')
    const params = newStreamParams(SEG)
    const stray = sealAll(params, plain)
    await t.sendChunk(t.alice, t.chunk(sha(stray), 0, stray))
    await expect.poll(() => t.errors.map((e) => e.code)).toContain('ERR_BLOB_UNKNOWN')
    // Alice shares a blob; Mallory, who saw its id, sends bytes for it over her own link
    const { cipher, cipherSha256 } = await t.share(plain)
    const forged = cipher.slice()
    forged[0] = (forged[0] as number) ^ 1
    await t.sendChunk(t.mallory, t.chunk(cipherSha256, 0, forged))
    await expect.poll(() => t.errors.filter((e) => e.code === 'ERR_BLOB_UNKNOWN').length).toBe(2)
    expect(t.errors.at(-1)?.message).toMatch(/another link/)
    expect(t.errors.every((e) => e.code === 'ERR_BLOB_UNKNOWN')).toBe(true)
    await t.stillUp()
  })

  it('an oversize chunk: ERR_BLOB_CHUNK_TOO_LARGE; a chunk that is not one: ERR_FILE_FORMAT', async () => {
    const t = await setup('oversize')
    const { cipherSha256 } = await t.share(plain)
    await t.sendChunk(t.alice, newChunk(cipherSha256, 0, 16 * 1024 * 1024 + 1024))
    await expect.poll(() => t.errors.map((e) => e.code)).toContain('ERR_BLOB_CHUNK_TOO_LARGE')
    await t.sendChunk(t.alice, Uint8Array.of(9, 9, 9))
    await expect.poll(() => t.errors.map((e) => e.code)).toContain('ERR_FILE_FORMAT')
    await t.stillUp()
  })
})
