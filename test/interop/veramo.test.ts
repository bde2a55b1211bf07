import { describe, expect, it } from 'vitest'
import {
  createPeerDid,
  didPeerResolver,
  type Enc,
  generateAgreementKey,
  jwkToMultikey,
  type Message,
  packEncrypted,
  packSigned,
  staticSecrets,
  unpack,
} from '../../src/index.js'
import { createVeramoAgent, createVeramoPeerDid, type VeramoAgent } from '../support/veramo.js'
import { interopRecorder } from './record.js'

/**
 * Veramo 7 (@veramo/did-comm 7.0.1) both ways, each agent with its own did:peer:2 and its own
 * resolver. Veramo encrypts for X25519 keys only. Its authcrypt is its own variant (ECDH-1PU
 * without the content tag in the KDF, A256GCM by default, no apu), read and written here only with
 * the explicit compat options; its JWS wants kid in the protected header.
 */
const rec = interopRecorder('veramo')
const BASIC = 'https://didcomm.org/basicmessage/2.0/message'

async function setup(): Promise<{ veramo: VeramoAgent; theirDid: string; me: ReturnType<typeof createPeerDid> }> {
  // a fresh agent per case: once Veramo has authcrypted, its identifier's Ed25519 key is X25519 (see test/support/veramo.ts)
  const veramo = createVeramoAgent()
  const theirDid = (await createVeramoPeerDid(veramo, 'http://127.0.0.1:9/didcomm')).did
  const me = createPeerDid({ service: { uri: 'http://127.0.0.1:9/carrier' } })
  return { veramo, theirDid, me }
}

const ours = (me: ReturnType<typeof createPeerDid>) => ({ resolver: didPeerResolver, secrets: staticSecrets(me.secrets) })

function theirMessage(from: string, to: string, text: string) {
  // Veramo's messages carry created_time as an ISO-8601 string
  return {
    id: `v-${text}`,
    type: BASIC,
    from,
    to: [to],
    created_time: new Date(1_796_000_000_000).toISOString(),
    body: { content: text },
  }
}

function ourMessage(from: string, to: string, text: string): Message {
  return { id: `c-${text}`, type: BASIC, from, to: [to], created_time: 1_796_000_000, body: { content: text } }
}

describe('Veramo 7 packs, we unpack', () => {
  for (const enc of ['A256GCM', 'A256CBC-HS512', 'XC20P'] as const) {
    it(`anoncrypt X25519 ${enc}`, async () => {
      const { veramo, theirDid, me } = await setup()
      const { message } = await veramo.packDIDCommMessage({
        packing: 'anoncrypt',
        message: theirMessage(theirDid, me.did, enc) as never,
        options: { enc },
      })
      const { message: m, metadata } = await unpack(message, ours(me))
      expect(m.body).toEqual({ content: enc })
      expect(m.created_time).toBe('2026-11-30T00:53:20.000Z')
      expect(metadata).toMatchObject({ encrypted: true, authenticated: false, anonymousSender: true })
      // it labels the enc of its A256GCM+A256KW recipient as it likes; the protected header is what counts
      expect(metadata.encAlgAnon).toBe(`ECDH-ES+A256KW/${enc}`)
      rec.record({ direction: 'they-pack', packing: 'anoncrypt', algs: `X25519, ${enc}`, outcome: 'works' })
    })
  }

  for (const enc of ['A256GCM', 'A256CBC-HS512', 'XC20P'] as const) {
    it(`authcrypt X25519 ${enc}: refused by default, read with compat.veramoAuthcrypt`, async () => {
      const { veramo, theirDid, me } = await setup()
      const { message } = await veramo.packDIDCommMessage({
        packing: 'authcrypt',
        message: theirMessage(theirDid, me.did, enc) as never,
        options: { enc },
      })
      const header = JSON.parse(Buffer.from(JSON.parse(message).protected, 'base64url').toString())
      // exactly how it differs from the spec's authcrypt: no apu, no apv, epk in the protected header
      // (as ours), the recipient header only a kid, and (tested below) no tag in the key derivation
      expect(header).toMatchObject({ alg: 'ECDH-1PU+A256KW', enc, skid: `${theirDid}#key-1`, epk: { crv: 'X25519' } })
      expect(header.apu).toBeUndefined()
      expect(header.apv).toBeUndefined()
      expect(JSON.parse(message).recipients.map((r: { header: object }) => Object.keys(r.header))).toEqual([['kid']])
      const refusal =
        enc === 'A256CBC-HS512'
          ? { code: 'ERR_DIDCOMM_DECRYPT', message: 'key unwrap failed' }
          : {
              code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM',
              message: `authcrypt with ${enc} (Veramo's variant: unpack with compat.veramoAuthcrypt)`,
            }
      await expect(unpack(message, ours(me))).rejects.toMatchObject(refusal)
      const { message: m, metadata } = await unpack(message, { ...ours(me), compat: { veramoAuthcrypt: true } })
      expect(m.body).toEqual({ content: enc })
      expect(metadata).toMatchObject({
        authenticated: true,
        encryptedFrom: `${theirDid}#key-1`,
        compat: 'veramo-authcrypt',
        encAlgAuth: `ECDH-1PU+A256KW/${enc}`,
      })
      rec.record({
        direction: 'they-pack',
        packing: 'authcrypt',
        algs: `X25519, ${enc}`,
        outcome: 'compat',
        note: `unpack with compat.veramoAuthcrypt; by default refused: ${refusal.code} "${refusal.message}"`,
      })
    })
  }

  it('authcrypt to two recipients (bcc) is refused even with compat.veramoAuthcrypt: any recipient could forge it', async () => {
    const { veramo, theirDid, me } = await setup()
    const other = createPeerDid()
    const { message } = await veramo.packDIDCommMessage({
      packing: 'authcrypt',
      message: theirMessage(theirDid, me.did, 'bcc') as never,
      options: { bcc: [other.did] },
    })
    expect(JSON.parse(message).recipients).toHaveLength(2)
    await expect(unpack(message, { ...ours(me), compat: { veramoAuthcrypt: true } })).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM',
      message: 'authcrypt with A256GCM',
    })
  })

  it('signed (JWS) EdDSA', async () => {
    const { veramo, theirDid, me } = await setup()
    const { message } = await veramo.packDIDCommMessage({
      packing: 'jws',
      message: theirMessage(theirDid, me.did, 'jws') as never,
    })
    const { message: m, metadata } = await unpack(message, ours(me))
    expect(m.body).toEqual({ content: 'jws' })
    expect(metadata).toMatchObject({ nonRepudiation: true, signFrom: `${theirDid}#key-2`, signAlg: 'EdDSA' })
    rec.record({ direction: 'they-pack', packing: 'signed', algs: 'EdDSA', outcome: 'works' })
  })

  it('anoncrypt P-256: Veramo refuses to encrypt for a P-256 key', async () => {
    const { veramo, theirDid } = await setup()
    const p256 = `did:peer:2.E${jwkToMultikey(generateAgreementKey('P-256'))}`
    await expect(
      veramo.packDIDCommMessage({ packing: 'anoncrypt', message: theirMessage(theirDid, p256, 'p256') as never }),
    ).rejects.toThrow(`not_supported: no compatible key agreement keys found for recipient ${p256}`)
    rec.record({
      direction: 'they-pack',
      packing: 'anoncrypt',
      algs: 'P-256, A256GCM',
      outcome: 'refused',
      note: 'Veramo encrypts for X25519 keys only: "not_supported: no compatible key agreement keys found for recipient"',
    })
  })
})

describe('we pack, Veramo 7 unpacks', () => {
  for (const enc of ['A256CBC-HS512', 'A256GCM', 'XC20P'] as const) {
    it(`anoncrypt X25519 ${enc}`, async () => {
      const { veramo, theirDid, me } = await setup()
      const packed = await packEncrypted(ourMessage(me.did, theirDid, enc), { to: theirDid, enc, forward: false, ...ours(me) })
      const out = await veramo.unpackDIDCommMessage({ message: packed.packed })
      expect(out.message.body).toEqual({ content: enc })
      expect(out.metaData.packing).toBe('anoncrypt')
      rec.record({ direction: 'we-pack', packing: 'anoncrypt', algs: `X25519, ${enc}`, outcome: 'works' })
    })
  }

  it('its did:peer:2 with a service resolves, for us, to that endpoint', async () => {
    const { theirDid, me } = await setup()
    const packed = await packEncrypted(ourMessage(me.did, theirDid, 'svc'), { to: theirDid, ...ours(me) })
    expect(packed.serviceUri).toBe('http://127.0.0.1:9/didcomm')
  })

  it('authcrypt X25519 A256CBC-HS512 (standard): Veramo refuses it', async () => {
    const { veramo, theirDid, me } = await setup()
    const packed = await packEncrypted(ourMessage(me.did, theirDid, 'std'), {
      to: theirDid,
      from: me.did,
      forward: false,
      ...ours(me),
    })
    await expect(veramo.unpackDIDCommMessage({ message: packed.packed })).rejects.toThrow(
      'unable to decrypt DIDComm message with any of the locally managed keys',
    )
  })

  for (const enc of ['A256CBC-HS512', 'A256GCM', 'XC20P'] as Enc[]) {
    it(`authcrypt X25519 ${enc} with compat 'veramo'`, async () => {
      const { veramo, theirDid, me } = await setup()
      const packed = await packEncrypted(ourMessage(me.did, theirDid, enc), {
        to: theirDid,
        from: me.did,
        compat: 'veramo',
        enc,
        forward: false,
        ...ours(me),
      })
      const out = await veramo.unpackDIDCommMessage({ message: packed.packed })
      expect(out.message).toMatchObject({ from: me.did, body: { content: enc } })
      expect(out.metaData.packing).toBe('authcrypt')
      rec.record({
        direction: 'we-pack',
        packing: 'authcrypt',
        algs: `X25519, ${enc}`,
        outcome: 'compat',
        note: `packEncrypted with compat: 'veramo'; the standard form is refused: "unable to decrypt DIDComm message with any of the locally managed keys"`,
      })
    })
  }

  it("signed (JWS) EdDSA: refused by default (kid outside the protected header), accepted with compat 'veramo'", async () => {
    const { veramo, theirDid, me } = await setup()
    const m = ourMessage(me.did, theirDid, 'jws')
    const standard = await packSigned(m, { signFrom: me.did, ...ours(me) })
    await expect(veramo.unpackDIDCommMessage({ message: standard })).rejects.toThrow(
      'invalid_jws: sender is not a DID or does not match the `kid`',
    )
    const compat = await packSigned(m, { signFrom: me.did, compat: 'veramo', ...ours(me) })
    const out = await veramo.unpackDIDCommMessage({ message: compat })
    expect(out.message.body).toEqual({ content: 'jws' })
    expect(out.metaData.packing).toBe('jws')
    // the compat form is a valid DIDComm JWS for us too
    expect((await unpack(compat, ours(me))).metadata.signFrom).toBe(`${me.did}#key-2`)
    rec.record({
      direction: 'we-pack',
      packing: 'signed',
      algs: 'EdDSA',
      outcome: 'compat',
      note: `packSigned with compat: 'veramo' (kid in the protected header); by default refused: "invalid_jws: sender is not a DID or does not match the \`kid\`"`,
    })
  })
})

describe('the Veramo agent of test/support/veramo.ts', () => {
  it('takes our envelope through its message handlers (as a mediation client would) and stores it', async () => {
    const { veramo, theirDid, me } = await setup()
    const packed = await packEncrypted(ourMessage(me.did, theirDid, 'handled'), {
      to: theirDid,
      from: me.did,
      compat: 'veramo',
      forward: false,
      ...ours(me),
    })
    const handled = await veramo.handleMessage({ raw: packed.packed, save: true })
    expect(handled).toMatchObject({ type: BASIC, from: me.did, to: theirDid, data: { content: 'handled' } })
    const stored = await veramo.dataStoreORMGetMessages()
    expect(stored.map((m) => m.id)).toEqual(['c-handled'])
  })
})

rec.checkCommitted()
