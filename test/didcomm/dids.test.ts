import { describe, expect, it } from 'vitest'
import { chainResolvers, jwkOf, jwkToMultikey, methods, multikeyToJwk, staticSecrets } from '../../src/did/document.js'
import { createDidKey, didKeyDocument, didKeyResolver } from '../../src/did/key.js'
import { createPeerDid, didPeer2Document, didPeerResolver } from '../../src/did/peer.js'
import { generateAgreementKey, generateSigningKey } from '../../src/didcomm/keys.js'
import { packEncrypted, unpack } from '../../src/didcomm/pack.js'

const resolver = chainResolvers(didKeyResolver, didPeerResolver)

describe('did:peer:2', () => {
  it("resolves the peer DID spec's example", () => {
    const did =
      'did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc.Vz6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V.Vz6MkgoLTnTypo3tDRwCkZXSccTPHRLhF4ZnjhueYAFpEX6vg.SeyJ0IjoiZG0iLCJzIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9lbmRwb2ludCIsInIiOlsiZGlkOmV4YW1wbGU6c29tZW1lZGlhdG9yI3NvbWVrZXkiXSwiYSI6WyJkaWRjb21tL3YyIiwiZGlkY29tbS9haXAyO2Vudj1yZmM1ODciXX0'
    const doc = didPeer2Document(did)
    expect(doc.keyAgreement).toEqual([`${did}#key-1`])
    expect(doc.authentication).toEqual([`${did}#key-2`, `${did}#key-3`])
    expect(methods(doc, 'keyAgreement').map((m) => jwkOf(m).crv)).toEqual(['X25519'])
    expect(methods(doc, 'authentication').map((m) => jwkOf(m).crv)).toEqual(['Ed25519', 'Ed25519'])
    expect(doc.service).toEqual([
      {
        id: `${did}#service`,
        type: 'DIDCommMessaging',
        serviceEndpoint: 'https://example.com/endpoint',
        routingKeys: ['did:example:somemediator#somekey'],
        accept: ['didcomm/v2', 'didcomm/aip2;env=rfc587'],
      },
    ])
  })

  it('creates identities that exchange authcrypt messages, with a service that round-trips', async () => {
    const alice = createPeerDid({ service: { uri: 'mqtt://127.0.0.1:1883/didcomm/v2/abc/in' } })
    const bob = createPeerDid({ service: { uri: 'ble://d2f195b6-2e80-4ab0-be24-32ebe761352f', routingKeys: [] } })
    expect((await resolver.resolve(bob.did))?.service?.[0]?.serviceEndpoint).toEqual({
      uri: 'ble://d2f195b6-2e80-4ab0-be24-32ebe761352f',
      accept: ['didcomm/v2'],
      routingKeys: [],
    })
    const secrets = staticSecrets([...alice.secrets, ...bob.secrets])
    const msg = { id: '1', type: 'https://example.org/t', from: alice.did, to: [bob.did], body: { n: 1 } }
    const packed = await packEncrypted(msg, { to: bob.did, from: alice.did, signFrom: `${alice.did}#key-2`, resolver, secrets })
    const { message, metadata } = await unpack(packed.packed, { resolver, secrets })
    expect(message).toMatchObject(msg)
    expect(metadata).toMatchObject({
      encryptedFrom: `${alice.did}#key-1`,
      signFrom: `${alice.did}#key-2`,
      encryptedTo: [`${bob.did}#key-1`],
    })
  })
})

describe('did:key', () => {
  it('resolves Ed25519 with its derived X25519 key agreement key, and P-256', () => {
    const doc = didKeyDocument('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK')
    expect(methods(doc, 'authentication').map((m) => jwkOf(m).crv)).toEqual(['Ed25519'])
    // the did:key spec's example derives this X25519 key
    expect(doc.keyAgreement).toEqual([
      'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p',
    ])
    const p256 = createDidKey('P-256')
    expect(methods(didKeyDocument(p256.did), 'keyAgreement').map((m) => jwkOf(m).crv)).toEqual(['P-256'])
  })

  for (const crv of ['Ed25519', 'P-256'] as const) {
    it(`${crv} identities exchange signed + authcrypt messages`, async () => {
      const a = createDidKey(crv)
      const b = createDidKey(crv)
      const secrets = staticSecrets([...a.secrets, ...b.secrets])
      const msg = { id: '2', type: 'https://example.org/t', from: a.did, to: [b.did], body: {} }
      const signFrom = (a.secrets[0] as { kid: string }).kid
      const packed = await packEncrypted(msg, { to: b.did, from: a.did, signFrom, resolver, secrets })
      const { metadata } = await unpack(packed.packed, { resolver, secrets })
      expect(metadata).toMatchObject({ authenticated: true, nonRepudiation: true, signFrom })
    })
  }
})

describe('JWK ↔ multikey', () => {
  it('round-trips Ed25519, X25519 and P-256 keys', () => {
    for (const k of [generateSigningKey('Ed25519'), generateAgreementKey('X25519'), generateAgreementKey('P-256')]) {
      const { d: _d, ...pub } = k
      expect(multikeyToJwk(jwkToMultikey(pub))).toEqual(pub)
    }
  })
})
