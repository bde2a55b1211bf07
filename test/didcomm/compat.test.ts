import { describe, expect, it } from 'vitest'
import { b64u } from '../../src/didcomm/b64u.js'
import { cekFor, concatKdf, encryptContent, wrapKey } from '../../src/didcomm/cipher.js'
import { encryptJwe, type GeneralJwe } from '../../src/didcomm/jwe.js'
import { ecdh, generateAgreementKey, type Jwk, publicJwk } from '../../src/didcomm/keys.js'
import { type Message, packEncrypted, packPlaintext, unpack } from '../../src/didcomm/pack.js'
import { fixtures } from './support.js'

/**
 * What is accepted beyond the strict reading, and only that: an ISO-8601 created_time, authcrypt
 * without apu (skid names the sender), and — only when asked for — Veramo's authcrypt variant for
 * one recipient. The bad inputs around each are refused.
 */
const { resolver, secrets } = fixtures()
const ALICE = 'did:example:alice#key-x25519-1'
const BOB = 'did:example:bob#key-x25519-1'

const message = (extra: Partial<Message> = {}): Message => ({
  id: 'compat-1',
  type: 'https://example.org/test/1.0/ping',
  from: 'did:example:alice',
  to: ['did:example:bob'],
  created_time: 1_700_000_000,
  body: { n: 1 },
  ...extra,
})

async function keys() {
  const sender = (await secrets.get(ALICE)) as Jwk
  const recipient = publicJwk((await secrets.get(BOB)) as Jwk)
  return { sender, recipient }
}

/** Standard ECDH-1PU (tag in the KDF) but with no apu in the header, as the RFC allows. */
async function authcryptWithoutApu(m: Message): Promise<GeneralJwe> {
  const { sender, recipient } = await keys()
  const epk = generateAgreementKey('X25519')
  const header = {
    typ: 'application/didcomm-encrypted+json',
    alg: 'ECDH-1PU+A256KW',
    enc: 'A256CBC-HS512',
    skid: ALICE,
    epk: publicJwk(epk),
  }
  const prot = b64u.encodeJson(header)
  const cek = cekFor('A256CBC-HS512')
  const { iv, ciphertext, tag } = encryptContent(
    'A256CBC-HS512',
    cek,
    new TextEncoder().encode(packPlaintext(m)),
    new TextEncoder().encode(prot),
  )
  const z = new Uint8Array([...ecdh(epk, recipient), ...ecdh(sender, recipient)])
  const kek = concatKdf(z, header.alg, new Uint8Array(0), new Uint8Array(0), tag)
  return {
    protected: prot,
    recipients: [{ header: { kid: BOB }, encrypted_key: b64u.encode(wrapKey(kek, cek)) }],
    iv: b64u.encode(iv),
    ciphertext: b64u.encode(ciphertext),
    tag: b64u.encode(tag),
  }
}

function withHeader(jwe: GeneralJwe, change: (h: Record<string, unknown>) => void): GeneralJwe {
  const h = JSON.parse(new TextDecoder().decode(b64u.decode(jwe.protected)))
  change(h)
  return { ...jwe, protected: b64u.encodeJson(h) }
}

async function veramoStyle(enc: 'A256GCM' | 'A256CBC-HS512' = 'A256GCM'): Promise<GeneralJwe> {
  const { sender, recipient } = await keys()
  return encryptJwe(new TextEncoder().encode(packPlaintext(message())), {
    recipients: [{ kid: BOB, key: recipient }],
    sender: { kid: ALICE, key: sender },
    enc,
    compat: 'veramo-authcrypt',
  })
}

describe('created_time', () => {
  it('accepts an ISO-8601 string as well as Unix seconds', async () => {
    for (const t of ['2026-12-03T06:35:00.000Z', '2026-12-03T06:35:00Z', '2026-12-03T08:35:00+02:00', 1_700_000_000]) {
      const { message: m } = await unpack(packPlaintext(message({ created_time: t })), { resolver, secrets })
      expect(m.created_time).toBe(t)
    }
  })

  it('refuses any other string', async () => {
    for (const t of ['yesterday', '2026-12-03', '2026-13-03T06:35:00Z', '2026-12-03T06:35:00', '1700000000']) {
      await expect(unpack(packPlaintext(message({ created_time: t })), { resolver, secrets }), t).rejects.toMatchObject({
        code: 'ERR_DIDCOMM_MALFORMED',
        message: 'created_time is neither a number nor an ISO-8601 time',
      })
    }
  })

  it('keeps expires_time a number', async () => {
    await expect(
      unpack(packPlaintext(message({ expires_time: '2026-12-03T06:35:00Z' as never })), { resolver, secrets }),
    ).rejects.toMatchObject({ code: 'ERR_DIDCOMM_MALFORMED', message: 'expires_time is not a number' })
  })
})

describe('authcrypt without apu', () => {
  it('is accepted when skid resolves (the standard derivation with an empty apu)', async () => {
    const { metadata } = await unpack(await authcryptWithoutApu(message()), { resolver, secrets })
    expect(metadata).toMatchObject({ authenticated: true, encryptedFrom: ALICE })
    expect(metadata.compat).toBeUndefined()
  })

  it('is refused without skid, with a skid that does not resolve, or with an apu naming another key', async () => {
    const jwe = await authcryptWithoutApu(message())
    await expect(
      unpack(
        withHeader(jwe, (h) => delete h.skid),
        { resolver, secrets },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_HEADER',
      message: 'authcrypt JWE without skid',
    })
    await expect(
      unpack(
        withHeader(jwe, (h) => (h.skid = 'did:example:nobody#key-1')),
        { resolver, secrets },
      ),
    ).rejects.toMatchObject({ code: 'ERR_DIDCOMM_DID_NOT_FOUND' })
    await expect(
      unpack(
        withHeader(jwe, (h) => (h.apu = b64u.encode(new TextEncoder().encode('did:example:alice#key-p256-1')))),
        {
          resolver,
          secrets,
        },
      ),
    ).rejects.toMatchObject({ code: 'ERR_DIDCOMM_HEADER', message: 'apu does not match skid' })
    await expect(
      unpack(
        withHeader(jwe, (h) => (h.apu = 7)),
        { resolver, secrets },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_HEADER',
    })
  })
})

describe("Veramo's authcrypt variant", () => {
  it('is refused by default, in both its encodings', async () => {
    await expect(unpack(await veramoStyle('A256GCM'), { resolver, secrets })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM',
    })
    await expect(unpack(await veramoStyle('A256CBC-HS512'), { resolver, secrets })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_DECRYPT',
    })
  })

  it('is read with compat.veramoAuthcrypt and reported as such', async () => {
    for (const enc of ['A256GCM', 'A256CBC-HS512'] as const) {
      const { message: m, metadata } = await unpack(await veramoStyle(enc), {
        resolver,
        secrets,
        compat: { veramoAuthcrypt: true },
      })
      expect(m.id).toBe('compat-1')
      expect(metadata).toMatchObject({ compat: 'veramo-authcrypt', encryptedFrom: ALICE, encAlgAuth: `ECDH-1PU+A256KW/${enc}` })
    }
  })

  it('standard authcrypt read with the compat option on is still standard', async () => {
    const packed = await packEncrypted(message(), { to: BOB, from: ALICE, forward: false, resolver, secrets })
    const { metadata } = await unpack(packed.packed, { resolver, secrets, compat: { veramoAuthcrypt: true } })
    expect(metadata.compat).toBeUndefined()
  })

  it("packEncrypted compat 'veramo' refuses a recipient with several keys, and a claimed sender key that is not the sender's fails", async () => {
    await expect(
      packEncrypted(message(), { to: 'did:example:bob', from: 'did:example:alice', compat: 'veramo', resolver, secrets }),
    ).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM',
      message: expect.stringMatching(/^Veramo's authcrypt is for one recipient only, not \d+$/),
    })
    const claim = (skid: string) =>
      withHeader(encrypted, (h) => {
        h.skid = skid
        delete h.apu
      })
    const encrypted = await veramoStyle()
    const opts = { resolver, secrets, compat: { veramoAuthcrypt: true } }
    await expect(unpack(claim('did:example:alice#key-x25519-not-in-doc'), opts)).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_NO_KEY',
    })
    // another party's real key: the derivation fails, nobody can pass as someone else
    await expect(unpack(claim('did:example:charlie#key-x25519-1'), opts)).rejects.toMatchObject({ code: 'ERR_DIDCOMM_DECRYPT' })
  })
})
