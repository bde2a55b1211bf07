import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { staticSecrets } from '../../src/did/document.js'
import { b64u } from '../../src/didcomm/b64u.js'
import { DIDCommError } from '../../src/didcomm/errors.js'
import { encryptJwe } from '../../src/didcomm/jwe.js'
import { publicJwk } from '../../src/didcomm/keys.js'
import { attachmentBytes, base64Attachment, createMessage, jsonAttachment } from '../../src/didcomm/message.js'
import { forwardPayload, type Message, packEncrypted, packPlaintext, packSigned, unpack } from '../../src/didcomm/pack.js'
import { fixtures } from './support.js'

const { resolver, secrets } = fixtures()

const message = (extra: Partial<Message> = {}): Message => ({
  id: 'm-1',
  type: 'https://example.org/test/1.0/ping',
  from: 'did:example:alice',
  to: ['did:example:bob'],
  created_time: 1_700_000_000,
  body: { hello: 'world' },
  ...extra,
})

const RECIPIENT_KEYS = [
  'did:example:bob#key-x25519-1',
  'did:example:bob#key-p256-1',
  'did:example:bob#key-p384-1',
  'did:example:bob#key-p521-1',
]
const AUTH_CURVES: Record<string, string> = {
  'did:example:bob#key-x25519-1': 'did:example:alice#key-x25519-1',
  'did:example:bob#key-p256-1': 'did:example:alice#key-p256-1',
  'did:example:bob#key-p521-1': 'did:example:alice#key-p521-1',
}
const SIGNERS = ['did:example:alice#key-1', 'did:example:alice#key-2', 'did:example:alice#key-3']
const ENCS = ['A256CBC-HS512', 'A256GCM', 'XC20P'] as const

const jsonValue = fc.jsonValue({ maxDepth: 2 })

describe('pack → unpack is the identity (property, every algorithm combination)', () => {
  it('anoncrypt, authcrypt, signed, sender-protected, any curve and content encryption', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          to: fc.constantFrom(...RECIPIENT_KEYS),
          auth: fc.boolean(),
          sign: fc.option(fc.constantFrom(...SIGNERS), { nil: undefined }),
          protect: fc.boolean(),
          enc: fc.constantFrom(...ENCS),
          body: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }),
          id: fc.uuid(),
          attach: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
        }),
        async (c) => {
          const from = c.auth ? AUTH_CURVES[c.to] : undefined
          const msg = message({
            id: c.id,
            body: c.body,
            ...(c.attach
              ? { attachments: [{ id: 'a', media_type: 'application/octet-stream', data: { base64: b64u.encode(c.attach) } }] }
              : {}),
          })
          const packed = await packEncrypted(msg, {
            to: c.to,
            from,
            signFrom: c.sign,
            protectSender: c.protect && from !== undefined,
            enc: c.enc,
            forward: false,
            resolver,
            secrets,
          })
          const { message: out, metadata } = await unpack(packed.packed, { resolver, secrets })
          expect(out).toEqual({ typ: 'application/didcomm-plain+json', ...msg })
          expect(metadata.encrypted).toBe(true)
          expect(metadata.authenticated).toBe(from !== undefined || c.sign !== undefined)
          expect(metadata.nonRepudiation).toBe(c.sign !== undefined)
          expect(metadata.encryptedFrom).toBe(from)
          expect(metadata.signFrom).toBe(c.sign)
          expect(metadata.encryptedTo).toEqual([c.to])
          expect(metadata.anonymousSender).toBe(from === undefined || c.protect)
        },
      ),
      { numRuns: 120, seed: 42 },
    )
  }, 300_000)

  it('encrypts to every key agreement key of the recipient on one curve', async () => {
    const packed = await packEncrypted(message(), { to: 'did:example:bob', forward: false, resolver, secrets })
    const bob = await resolver.resolve('did:example:bob')
    const x25519 = (bob?.verificationMethod ?? []).filter((v) => v.publicKeyJwk?.crv === 'X25519').map((v) => v.id)
    expect(packed.toKids).toEqual(x25519)
    expect(packed.toKids.length).toBeGreaterThan(1)
    const { metadata } = await unpack(packed.packed, { resolver, secrets })
    expect(metadata.encryptedTo).toEqual(packed.toKids)
  })

  it("wraps forwards for the recipient's mediators, which a mediator unwraps hop by hop", async () => {
    const msg = message({ to: ['did:example:charlie'], from: 'did:example:alice' })
    const packed = await packEncrypted(msg, { to: 'did:example:charlie', from: 'did:example:alice', resolver, secrets })
    // charlie's service goes through mediator3 (a DID), with routing keys mediator2 then mediator1
    expect(packed.forwardedThrough).toEqual(['did:example:mediator2#key-x25519-1', 'did:example:mediator1#key-x25519-1'])
    expect(packed.serviceUri).toBe('http://example.com/path')
    let envelope = packed.packed
    const hops: string[] = []
    for (;;) {
      const { message: m, metadata } = await unpack(envelope, { resolver, secrets })
      if (!metadata.forwarded) {
        expect(m).toEqual({ typ: 'application/didcomm-plain+json', ...msg })
        expect(metadata.encryptedFrom).toBe('did:example:alice#key-x25519-1')
        break
      }
      const f = forwardPayload(m)
      hops.push(f.next)
      envelope = f.envelope
    }
    expect(hops).toEqual(['did:example:mediator1#key-x25519-1', 'did:example:charlie'])
  })

  it('signed and plaintext round-trip', async () => {
    const signed = await packSigned(message(), { signFrom: 'did:example:alice#key-1', secrets })
    expect((await unpack(signed, { resolver, secrets })).metadata).toMatchObject({
      nonRepudiation: true,
      signFrom: 'did:example:alice#key-1',
    })
    const plain = packPlaintext(message())
    expect((await unpack(plain, { resolver, secrets })).metadata).toMatchObject({ encrypted: false, authenticated: false })
  })
})

function flipBit(b64: string, bit = 5): string {
  const bytes = b64u.decode(b64)
  bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7))
  return b64u.encode(bytes)
}

describe('tampering and wrong keys are rejected with typed errors', () => {
  const packAuth = async () =>
    JSON.parse(
      (
        await packEncrypted(message(), {
          to: 'did:example:bob#key-x25519-1',
          from: 'did:example:alice',
          forward: false,
          resolver,
          secrets,
        })
      ).packed,
    ) as Record<string, unknown> & { recipients: { encrypted_key: string }[] }

  for (const field of ['protected', 'iv', 'ciphertext', 'tag'] as const) {
    it(`one flipped bit in the ${field}`, async () => {
      const jwe = await packAuth()
      jwe[field] = flipBit(jwe[field] as string)
      await expect(unpack(jwe, { resolver, secrets })).rejects.toBeInstanceOf(DIDCommError)
    })
  }

  it('one flipped bit in an encrypted_key', async () => {
    const jwe = await packAuth()
    ;(jwe.recipients[0] as { encrypted_key: string }).encrypted_key = flipBit(
      (jwe.recipients[0] as { encrypted_key: string }).encrypted_key,
    )
    await expect(unpack(jwe, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_DECRYPT' })
  })

  it('one flipped bit in a signature', async () => {
    for (const signFrom of SIGNERS) {
      const jws = JSON.parse(await packSigned(message(), { signFrom, secrets })) as { signatures: { signature: string }[] }
      ;(jws.signatures[0] as { signature: string }).signature = flipBit(
        (jws.signatures[0] as { signature: string }).signature,
        17,
      )
      await expect(unpack(jws, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_SIGNATURE' })
    }
  })

  it('a recipient without the right private key', async () => {
    const jwe = await packAuth()
    const charlieOnly = staticSecrets([])
    await expect(unpack(jwe, { resolver, secrets: charlieOnly })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_NO_KEY' })
  })

  it('an skid that does not belong to the from of the message', async () => {
    const alice = (await secrets.get('did:example:alice#key-x25519-1')) as never
    const bob = await resolver.resolve('did:example:bob')
    const bobKey = (bob?.verificationMethod ?? []).find((v) => v.id === 'did:example:bob#key-x25519-1')?.publicKeyJwk
    const forged = encryptJwe(new TextEncoder().encode(packPlaintext(message({ from: 'did:example:charlie' }))), {
      recipients: [{ kid: 'did:example:bob#key-x25519-1', key: publicJwk(bobKey as never) }],
      sender: { kid: 'did:example:alice#key-x25519-1', key: alice },
      enc: 'A256CBC-HS512',
    })
    await expect(unpack(forged as never, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_SENDER_MISMATCH' })
  })

  it('a message not addressed to the recipient that decrypted it', async () => {
    const packed = await packEncrypted(message({ to: ['did:example:bob'] }), {
      to: 'did:example:bob#key-p256-1',
      resolver,
      secrets,
    })
    const jwe = JSON.parse(packed.packed)
    // re-encrypt the same plaintext to bob but claiming it is for charlie
    const inner = packPlaintext(message({ to: ['did:example:charlie'] }))
    const bob = await resolver.resolve('did:example:bob')
    const bobKey = (bob?.verificationMethod ?? []).find((v) => v.id === 'did:example:bob#key-p256-1')?.publicKeyJwk
    const other = encryptJwe(new TextEncoder().encode(inner), {
      recipients: [{ kid: 'did:example:bob#key-p256-1', key: bobKey as never }],
      enc: 'A256GCM',
    })
    expect(jwe.recipients).toHaveLength(1)
    await expect(unpack(other as never, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_RECIPIENT_MISMATCH' })
  })

  it('an expired message', async () => {
    const packed = await packEncrypted(message({ expires_time: 1000 }), {
      to: 'did:example:bob',
      forward: false,
      resolver,
      secrets,
    })
    await expect(unpack(packed.packed, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_EXPIRED' })
  })

  it('an unsupported algorithm is a typed error, not a crash', async () => {
    const jwe = await packAuth()
    const header = JSON.parse(new TextDecoder().decode(b64u.decode(jwe.protected as string)))
    jwe.protected = b64u.encodeJson({ ...header, enc: 'A128GCM' })
    await expect(unpack(jwe, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM' })
    jwe.protected = b64u.encodeJson({ ...header, alg: 'RSA-OAEP' })
    await expect(unpack(jwe, { resolver, secrets })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM' })
  })

  it('policy: plaintext or anonymous messages can be refused', async () => {
    await expect(unpack(packPlaintext(message()), { resolver, secrets, requireEncrypted: true })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_POLICY',
    })
    const anon = await packEncrypted(message(), { to: 'did:example:bob', forward: false, resolver, secrets })
    await expect(unpack(anon.packed, { resolver, secrets, requireAuthenticated: true })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_POLICY',
    })
  })
})

describe('plaintext helpers and serializations', () => {
  it('attachments carry bytes with byte_count and a hash the receiver checks', async () => {
    const file = new TextEncoder().encode('a file, of some bytes')
    const m = createMessage({
      type: 'https://example.org/file/1.0/offer',
      from: 'did:example:alice',
      to: ['did:example:bob'],
      expiresInSeconds: 60,
      attachments: [base64Attachment(file, { filename: 'a.txt', mediaType: 'text/plain' }), jsonAttachment({ k: 1 })],
    })
    expect(m.expires_time).toBe((m.created_time as number) + 60)
    const packed = await packEncrypted(m, { to: 'did:example:bob', from: 'did:example:alice', forward: false, resolver, secrets })
    const { message } = await unpack(packed.packed, { resolver, secrets })
    const [a] = message.attachments ?? []
    expect(a).toMatchObject({ filename: 'a.txt', media_type: 'text/plain', byte_count: file.length })
    expect(attachmentBytes(a as never)).toEqual(file)
    const tampered = {
      ...(a as object),
      data: { ...(a as { data: object }).data, base64: b64u.encode(new TextEncoder().encode('other bytes')) },
    }
    expect(() => attachmentBytes(tampered as never)).toThrow(DIDCommError)
  })

  it('unpacks Flattened JSON serializations of a JWE and a JWS', async () => {
    const packed = JSON.parse(
      (await packEncrypted(message(), { to: 'did:example:bob#key-x25519-1', forward: false, resolver, secrets })).packed,
    )
    const [r] = packed.recipients
    const flatJwe = {
      protected: packed.protected,
      header: r.header,
      encrypted_key: r.encrypted_key,
      iv: packed.iv,
      ciphertext: packed.ciphertext,
      tag: packed.tag,
    }
    expect((await unpack(flatJwe, { resolver, secrets })).message.id).toBe('m-1')
    const jws = JSON.parse(await packSigned(message(), { signFrom: 'did:example:alice#key-2', secrets }))
    const [s] = jws.signatures
    const flatJws = { payload: jws.payload, protected: s.protected, signature: s.signature, header: s.header }
    expect((await unpack(flatJws, { resolver, secrets })).metadata.signFrom).toBe('did:example:alice#key-2')
  })
})
