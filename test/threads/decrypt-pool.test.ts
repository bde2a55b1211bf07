import { afterAll, describe, expect, it } from 'vitest'
import { createDecryptPool } from '../../adapters/threads/index.js'
import { staticSecrets } from '../../src/did/document.js'
import { createMessage, createPeerDid, didPeerResolver, packEncrypted, unpack } from '../../src/index.js'

const mediator = createPeerDid()
const carol = createPeerDid()
const pool = createDecryptPool({ secrets: mediator.secrets, threads: 2 })
afterAll(() => pool.close())

const secretsOf = (id: typeof mediator) => staticSecrets(id.secrets)

async function anoncrypt(content: string, to = mediator.did): Promise<string> {
  const m = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content } })
  return (await packEncrypted(m, { to, resolver: didPeerResolver, secrets: { get: async () => null } })).packed
}

describe('decryption pool (adapters/threads): anoncrypt on worker threads, the same contract as on the caller', () => {
  it('opens anoncrypt for its keys on its threads: the same message and metadata as without the pool', async () => {
    const packed = await Promise.all(Array.from({ length: 50 }, (_, i) => anoncrypt(`hello ${i}`)))
    const o = { resolver: didPeerResolver, secrets: secretsOf(mediator) }
    const before = { ...pool.opened }
    const pooled = await Promise.all(packed.map((p) => unpack(p, { ...o, decrypt: pool.decrypt })))
    expect(pool.opened).toEqual({ onThreads: before.onThreads + 50, onCaller: before.onCaller })
    const plain = await Promise.all(packed.map((p) => unpack(p, o)))
    expect(pooled.map((u) => u.message.body?.content)).toEqual(Array.from({ length: 50 }, (_, i) => `hello ${i}`))
    expect(pooled).toEqual(plain)
  })

  it('authcrypt and envelopes for keys it does not hold are opened on the caller, as without the pool', async () => {
    const m = createMessage({
      type: 'https://didcomm.org/basicmessage/2.0/message',
      body: { content: 'auth' },
      from: carol.did,
      to: [mediator.did],
    })
    const secrets = { get: async (kid: string) => (await secretsOf(carol).get(kid)) ?? (await secretsOf(mediator).get(kid)) }
    const { packed } = await packEncrypted(m, {
      to: mediator.did,
      from: carol.did,
      resolver: didPeerResolver,
      secrets,
      forward: false,
    })
    const before = { ...pool.opened }
    const u = await unpack(packed, { resolver: didPeerResolver, secrets: secretsOf(mediator), decrypt: pool.decrypt })
    expect(u.metadata.authenticated).toBe(true)
    expect(u.message.body?.content).toBe('auth')
    const forCarol = await anoncrypt('for carol', carol.did)
    const c = await unpack(forCarol, { resolver: didPeerResolver, secrets: secretsOf(carol), decrypt: pool.decrypt })
    expect(c.message.body?.content).toBe('for carol')
    expect(pool.opened).toEqual({ onThreads: before.onThreads, onCaller: before.onCaller + 2 })
  })

  it('tampered, truncated and garbage JWEs fail with the same error codes as without the pool; the threads keep serving', async () => {
    const good = JSON.parse(await anoncrypt('intact')) as Record<string, unknown>
    const flip = (s: string) => (s[5] === 'A' ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`)
    const bad: Record<string, unknown>[] = [
      { ...good, ciphertext: flip(good.ciphertext as string) },
      { ...good, tag: flip(good.tag as string) },
      { ...good, iv: 'AAAA' },
      { ...good, ciphertext: 42 },
      {
        ...good,
        recipients: [
          { header: { kid: (good.recipients as { header: { kid: string } }[])[0]?.header.kid }, encrypted_key: 'AAAA' },
        ],
      },
    ]
    const o = { resolver: didPeerResolver, secrets: secretsOf(mediator) }
    for (const jwe of bad) {
      const without = await unpack(jwe, o).then(
        () => 'opened',
        (e: { code?: string }) => e.code,
      )
      const withPool = await unpack(jwe, { ...o, decrypt: pool.decrypt }).then(
        () => 'opened',
        (e: { code?: string }) => e.code,
      )
      expect(without).toMatch(/^ERR_DIDCOMM_/)
      expect(withPool).toBe(without)
    }
    expect((await unpack(good, { ...o, decrypt: pool.decrypt })).message.body?.content).toBe('intact')
  })
})
