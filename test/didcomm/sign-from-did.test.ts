import { Message as NodeMessage } from 'didcomm-node'
import { describe, expect, it } from 'vitest'
import { staticResolver, staticSecrets } from '../../src/did/document.js'
import type { Jwk } from '../../src/didcomm/keys.js'
import { type Message, packEncrypted, packSigned, signingKidFor, unpack } from '../../src/didcomm/pack.js'
import { fixtures, load } from './support.js'

/**
 * signFrom as a bare DID signs with the DID's first authentication key whose secret is held, as
 * didcomm-rust's sign_by does. The fixtures resolve alice to the document whose first
 * authentication key (key-not-in-secrets-1) has no secret, so both sides must skip it and sign
 * with key-1.
 */
const { resolver, secrets, docs } = fixtures()
const rustSecrets = Object.values(load('didcomm-rust/secrets.json') as Record<string, { id: string }[]>).flat()
const nodeResolver = {
  resolve: async (did: string) => structuredClone(docs.filter((d) => d.id === did).at(-1) ?? null),
}
const nodeSecrets = {
  get_secret: async (id: string) => rustSecrets.find((s) => s.id === id) ?? null,
  find_secrets: async (ids: string[]) => ids.filter((id) => rustSecrets.some((s) => s.id === id)),
}

const message = (): Message => ({
  id: 'sign-did-1',
  type: 'https://example.org/test/1.0/ping',
  from: 'did:example:alice',
  to: ['did:example:bob'],
  created_time: 1_700_000_000,
  body: { hello: 'world' },
})

describe('signFrom as a bare DID', () => {
  it('picks the first authentication key it holds a secret for', async () => {
    expect(await signingKidFor('did:example:alice', { resolver, secrets })).toBe('did:example:alice#key-1')
    const key2 = (await secrets.get('did:example:alice#key-2')) as Jwk
    const onlyKey2 = staticSecrets([{ ...key2, kid: 'did:example:alice#key-2' }])
    expect(await signingKidFor('did:example:alice', { resolver, secrets: onlyKey2 })).toBe('did:example:alice#key-2')
  })

  it('packSigned with a DID: we verify it as signed by key-1', async () => {
    const jws = await packSigned(message(), { signFrom: 'did:example:alice', secrets, resolver })
    const { metadata } = await unpack(jws, { resolver, secrets })
    expect(metadata.signFrom).toBe('did:example:alice#key-1')
    expect(metadata.nonRepudiation).toBe(true)
  })

  it('packEncrypted with signFrom a DID reports the key it signed with', async () => {
    const packed = await packEncrypted(message(), {
      to: 'did:example:bob',
      from: 'did:example:alice',
      signFrom: 'did:example:alice',
      forward: false,
      resolver,
      secrets,
    })
    expect(packed.signFromKid).toBe('did:example:alice#key-1')
    expect((await unpack(packed.packed, { resolver, secrets })).metadata.signFrom).toBe('did:example:alice#key-1')
  })

  it('we sign with a DID, didcomm-node verifies the same key', async () => {
    const jws = await packSigned(message(), { signFrom: 'did:example:alice', secrets, resolver })
    const [out, meta] = await NodeMessage.unpack(jws, nodeResolver as never, nodeSecrets as never, {})
    expect(out.as_value()).toMatchObject({ id: 'sign-did-1', body: { hello: 'world' } })
    expect(meta.sign_from).toBe('did:example:alice#key-1')
  })

  it('didcomm-node signs with sign_by a DID, we verify the same key', async () => {
    const nm = new NodeMessage({ ...message(), typ: 'application/didcomm-plain+json' } as never)
    const [jws, meta] = await nm.pack_signed('did:example:alice', nodeResolver as never, nodeSecrets as never)
    expect(meta.sign_by_kid).toBe('did:example:alice#key-1')
    expect((await unpack(jws, { resolver, secrets })).metadata.signFrom).toBe('did:example:alice#key-1')
  })

  it('refuses a DID with no authentication key it holds', async () => {
    await expect(
      packSigned(message(), { signFrom: 'did:example:alice', secrets: staticSecrets([]), resolver }),
    ).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_NO_KEY',
      message: expect.stringContaining('no private key for any authentication key of did:example:alice'),
    })
    const bob = { ...message(), from: 'did:example:bob' }
    await expect(packSigned(bob, { signFrom: 'did:example:bob', secrets, resolver })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_NO_KEY',
    })
  })

  it('refuses a DID without a resolver, an unresolvable DID and a non-DID', async () => {
    await expect(packSigned(message(), { signFrom: 'did:example:alice', secrets })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_NO_KEY',
      message: expect.stringContaining('a resolver is needed'),
    })
    const m = { ...message(), from: 'did:example:nobody' }
    await expect(packSigned(m, { signFrom: 'did:example:nobody', secrets, resolver: staticResolver([]) })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_DID_NOT_FOUND',
    })
    const plain = { ...message(), from: undefined }
    await expect(packSigned(plain, { signFrom: 'alice', secrets, resolver })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_NO_KEY',
      message: expect.stringContaining('must be a DID or a key id'),
    })
  })

  it('still refuses a signing DID that is not the sender', async () => {
    await expect(packSigned(message(), { signFrom: 'did:example:charlie', secrets, resolver })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_SENDER_MISMATCH',
    })
  })
})
