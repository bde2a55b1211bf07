import SDK from '@hyperledger/identus-sdk'
import { beforeAll, describe, expect, it } from 'vitest'
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
import { createIdentusPieces, type IdentusPieces } from '../support/identus.js'
import { interopRecorder } from './record.js'

/**
 * The Identus SDK 7 (@hyperledger/identus-sdk 7.0.0) both ways, through what its agent uses:
 * Mercury over its DIDCommWrapper (didcomm-rust in WASM, resolving with Castor, keys in Pluto).
 * Its own DIDs are did:peer:2 with an empty service part (`.SW10`); ours are did:peer:2 from
 * createPeerDid. Identus keys are X25519 (agreement) and Ed25519 (authentication) only.
 */
const rec = interopRecorder('identus')
const BASIC = 'https://didcomm.org/basicmessage/2.0/message'

let identus: IdentusPieces
let theirDid: SDK.Domain.DID
let me: ReturnType<typeof createPeerDid>
let ours: { resolver: typeof didPeerResolver; secrets: ReturnType<typeof staticSecrets> }

beforeAll(async () => {
  identus = await createIdentusPieces()
  theirDid = await identus.createPeerDID()
  me = createPeerDid({ service: { uri: 'http://127.0.0.1:9/carrier' } })
  ours = { resolver: didPeerResolver, secrets: staticSecrets(me.secrets) }
})

const theirMessage = (text: string, from?: SDK.Domain.DID, to: string = me.did) =>
  new SDK.Domain.Message({ content: text }, `i-${text}`, BASIC, from, SDK.Domain.DID.fromString(to))

const ourMessage = (text: string): Message => ({
  id: `c-${text}`,
  type: BASIC,
  from: me.did,
  to: [theirDid.toString()],
  created_time: 1_796_000_000,
  body: { content: text },
})

describe('Identus packs, we unpack', () => {
  it('its own DID is a did:peer:2 with an empty service part, which we resolve without a service', async () => {
    expect(theirDid.toString()).toMatch(/^did:peer:2\.Ez6LS[^.]+\.Vz6Mk[^.]+\.SW10$/)
    expect((await didPeerResolver.resolve(theirDid.toString()))?.service).toBeUndefined()
  })

  it('a DID it makes with a service resolves, for us, to that endpoint', async () => {
    const withService = await identus.createPeerDID([identus.service('http://127.0.0.1:9/identus')])
    const packed = await packEncrypted(
      { id: 'svc', type: BASIC, to: [withService.toString()], body: {} },
      { to: withService.toString(), ...ours },
    )
    expect(packed.serviceUri).toBe('http://127.0.0.1:9/identus')
    expect((await identus.mercury.unpackMessage(packed.packed)).id).toBe('svc')
  })

  it('anoncrypt X25519 XC20P (the only anoncrypt it makes)', async () => {
    const packed = await identus.didcomm.packEncrypted(theirMessage('anon'), SDK.Domain.DID.fromString(me.did))
    const { message, metadata } = await unpack(packed, ours)
    expect(message).toMatchObject({ id: 'i-anon', type: BASIC, body: { content: 'anon' } })
    expect(metadata).toMatchObject({ encrypted: true, authenticated: false, encAlgAnon: 'ECDH-ES+A256KW/XC20P' })
    rec.record({ direction: 'they-pack', packing: 'anoncrypt', algs: 'X25519, XC20P', outcome: 'works' })
  })

  it('authcrypt X25519 A256CBC-HS512 from its .SW10 DID (Mercury.packMessage)', async () => {
    const packed = await identus.mercury.packMessage(theirMessage('auth', theirDid))
    const { message, metadata } = await unpack(packed, ours)
    expect(message).toMatchObject({ from: theirDid.toString(), body: { content: 'auth' } })
    expect(metadata).toMatchObject({
      authenticated: true,
      anonymousSender: false,
      encryptedFrom: `${theirDid.toString()}#key-1`,
      encAlgAuth: 'ECDH-1PU+A256KW/A256CBC-HS512',
      nonRepudiation: false,
    })
    rec.record({ direction: 'they-pack', packing: 'authcrypt', algs: 'X25519, A256CBC-HS512', outcome: 'works' })
  })

  it('signed: not offered — its DIDComm wrapper packs with no signer', async () => {
    // packEncrypted(message, toDid, fromDid): there is no signing parameter, and sign_by is passed as null
    expect(SDK.DIDCommWrapper.prototype.packEncrypted.length).toBe(3)
    expect(SDK.DIDCommWrapper.prototype.packEncrypted.toString()).toContain('pack_encrypted(i,r?r.toString():null,null,')
    rec.record({
      direction: 'they-pack',
      packing: 'signed',
      algs: 'EdDSA',
      outcome: 'refused',
      note: 'not offered by the SDK: DIDCommWrapper.packEncrypted(message, to, from) passes sign_by = null',
    })
    rec.record({
      direction: 'they-pack',
      packing: 'signed + authcrypt',
      algs: 'EdDSA, X25519, A256CBC-HS512',
      outcome: 'refused',
      note: 'not offered by the SDK: DIDCommWrapper.packEncrypted(message, to, from) passes sign_by = null',
    })
  })

  it('other content encryptions and protect sender: not offered — its options are fixed', async () => {
    const source = SDK.DIDCommWrapper.prototype.packEncrypted.toString()
    expect(source).toContain('enc_alg_anon:"Xc20pEcdhEsA256kw"')
    expect(source).toContain('protect_sender:false')
    for (const enc of ['A256CBC-HS512', 'A256GCM']) {
      rec.record({
        direction: 'they-pack',
        packing: 'anoncrypt',
        algs: `X25519, ${enc}`,
        outcome: 'refused',
        note: 'not offered by the SDK: it always anoncrypts with XC20P (enc_alg_anon fixed in DIDCommWrapper.packEncrypted)',
      })
    }
    rec.record({
      direction: 'they-pack',
      packing: 'authcrypt, protect sender',
      algs: 'X25519, A256CBC-HS512 in A256CBC-HS512',
      outcome: 'refused',
      note: 'not offered by the SDK: protect_sender is fixed to false in DIDCommWrapper.packEncrypted',
    })
  })

  it('anoncrypt P-256: it refuses a recipient with a P-256 key', async () => {
    const p256 = `did:peer:2.E${jwkToMultikey(generateAgreementKey('P-256'))}`
    const err = await identus.didcomm.packEncrypted(theirMessage('p256', undefined, p256), SDK.Domain.DID.fromString(p256)).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(Error)
    const text = String((err as Error).message ?? err).replaceAll(p256, '<did>')
    expect(text).toContain("Non of the available Castor resolvers could resolve the DID '<did>'")
    rec.record({
      direction: 'they-pack',
      packing: 'anoncrypt',
      algs: 'P-256, XC20P',
      outcome: 'refused',
      note: `its Castor cannot resolve a did:peer:2 with a P-256 key: "${text}"`,
    })
  })
})

describe('we pack, Identus unpacks', () => {
  for (const enc of ['A256CBC-HS512', 'A256GCM', 'XC20P'] as Enc[]) {
    it(`anoncrypt X25519 ${enc} to its .SW10 DID`, async () => {
      const packed = await packEncrypted(ourMessage(enc), { to: theirDid.toString(), enc, ...ours })
      expect(packed.serviceUri).toBeUndefined()
      const got = await identus.mercury.unpackMessage(packed.packed)
      expect(got).toMatchObject({ id: `c-${enc}`, piuri: BASIC, body: { content: enc } })
      rec.record({ direction: 'we-pack', packing: 'anoncrypt', algs: `X25519, ${enc}`, outcome: 'works' })
    })
  }

  it('authcrypt X25519 A256CBC-HS512 from our DID', async () => {
    const packed = await packEncrypted(ourMessage('auth'), { to: theirDid.toString(), from: me.did, ...ours })
    const got = await identus.mercury.unpackMessage(packed.packed)
    expect(got.from?.toString()).toBe(me.did)
    expect(got.body).toEqual({ content: 'auth' })
    rec.record({ direction: 'we-pack', packing: 'authcrypt', algs: 'X25519, A256CBC-HS512', outcome: 'works' })
  })

  it('authcrypt X25519 A256CBC-HS512, sender protected (anoncrypt over it)', async () => {
    const packed = await packEncrypted(ourMessage('protected'), {
      to: theirDid.toString(),
      from: me.did,
      protectSender: true,
      ...ours,
    })
    const got = await identus.mercury.unpackMessage(packed.packed)
    expect(got.from?.toString()).toBe(me.did)
    rec.record({
      direction: 'we-pack',
      packing: 'authcrypt, protect sender',
      algs: 'X25519, A256CBC-HS512 in A256CBC-HS512',
      outcome: 'works',
    })
  })

  it('signed EdDSA + authcrypt, and signed alone', async () => {
    const packed = await packEncrypted(ourMessage('signed'), { to: theirDid.toString(), from: me.did, signFrom: me.did, ...ours })
    expect(packed.signFromKid).toBe(`${me.did}#key-2`)
    expect((await identus.mercury.unpackMessage(packed.packed)).body).toEqual({ content: 'signed' })
    rec.record({ direction: 'we-pack', packing: 'signed + authcrypt', algs: 'EdDSA, X25519, A256CBC-HS512', outcome: 'works' })
    const jws = await packSigned(ourMessage('jws'), { signFrom: me.did, ...ours })
    expect((await identus.mercury.unpackMessage(jws)).body).toEqual({ content: 'jws' })
    rec.record({ direction: 'we-pack', packing: 'signed', algs: 'EdDSA', outcome: 'works' })
  })

  it('a message for another DID is not opened', async () => {
    const stranger = createPeerDid()
    const m = { ...ourMessage('stranger'), to: [stranger.did] }
    const packed = await packEncrypted(m, {
      to: stranger.did,
      from: me.did,
      resolver: didPeerResolver,
      secrets: staticSecrets([...me.secrets, ...stranger.secrets]),
    })
    await expect(identus.mercury.unpackMessage(packed.packed)).rejects.toBeDefined()
  })
})

rec.checkCommitted()
