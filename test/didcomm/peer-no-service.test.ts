import { describe, expect, it } from 'vitest'
import { b64u } from '../../src/didcomm/b64u.js'
import {
  CarrierError,
  createAgent,
  createMessage,
  createPeerDid,
  didPeer2Document,
  didPeerResolver,
  NoEndpointError,
  NoTransportError,
  oneLinkEndpointTransport,
  packEncrypted,
  staticSecrets,
  unpack,
} from '../../src/index.js'
import { memoryLinkPair } from '../../src/testing/index.js'
import { createTransport } from '../../src/wire/create-transport.js'

/**
 * did:peer:2 whose service part is an empty array (`.SW10`, base64url of "[]"), as the Identus SDK
 * makes its own DIDs: a document without a service, never a malformed entry; sending to it says
 * there is no endpoint, naming the DID.
 */
function identusStyle(): { did: string; secrets: ReturnType<typeof createPeerDid>['secrets'] } {
  const base = createPeerDid()
  const did = `${base.did}.SW10`
  return { did, secrets: base.secrets.map((s) => ({ ...s, kid: s.kid.replace(base.did, did) })) }
}

describe('did:peer:2 with an empty service part', () => {
  it('resolves to a document with its keys and no service', () => {
    const { did } = identusStyle()
    const doc = didPeer2Document(did)
    expect(doc.service).toBeUndefined()
    expect(doc.keyAgreement).toEqual([`${did}#key-1`])
    expect(doc.authentication).toEqual([`${did}#key-2`])
  })

  it('resolves a service part holding an array of services, each its own entry', () => {
    const base = createPeerDid()
    const svcs = [
      { t: 'dm', s: { uri: 'http://a.example/1' } },
      { t: 'dm', s: { uri: 'http://b.example/2' } },
    ]
    const did = `${base.did}.S${b64u.encodeJson(svcs)}`
    expect(didPeer2Document(did).service).toEqual([
      { id: `${did}#service`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'http://a.example/1' } },
      { id: `${did}#service-1`, type: 'DIDCommMessaging', serviceEndpoint: { uri: 'http://b.example/2' } },
    ])
  })

  it('refuses service parts that are not services', () => {
    const base = createPeerDid()
    for (const bad of [[1], ['dm'], [{ t: 'dm' }], [{ s: 'http://x' }], null, 7, [[]]]) {
      expect(() => didPeer2Document(`${base.did}.S${b64u.encodeJson(bad)}`), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_DIDCOMM_MALFORMED' }),
      )
    }
    expect(() => didPeer2Document(`${base.did}.S!!!`)).toThrow(expect.objectContaining({ code: 'ERR_DIDCOMM_MALFORMED' }))
  })

  it('messages to and from such a DID pack and unpack', async () => {
    const a = identusStyle()
    const b = createPeerDid()
    const secrets = staticSecrets([...a.secrets, ...b.secrets])
    const m = { id: 'sw10', type: 'https://example.org/t', from: b.did, to: [a.did], body: {} }
    const packed = await packEncrypted(m, { to: a.did, from: b.did, resolver: didPeerResolver, secrets })
    expect(packed.serviceUri).toBeUndefined()
    const { metadata } = await unpack(packed.packed, { resolver: didPeerResolver, secrets })
    expect(metadata.encryptedTo).toEqual([`${a.did}#key-1`])
  })

  it('the agent refuses to send to it with ERR_NO_ENDPOINT naming the DID', async () => {
    const pair = memoryLinkPair({ mtu: 1024 })
    const sender = createAgent({
      identity: createPeerDid({ service: { uri: 'nfc:' } }),
      resolver: didPeerResolver,
      transports: [oneLinkEndpointTransport(createTransport(pair.a), ['nfc:'])],
    })
    const { did } = identusStyle()
    try {
      const sent = sender.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), { to: did })
      await expect(sent).rejects.toBeInstanceOf(NoEndpointError)
      await expect(sent).rejects.toBeInstanceOf(NoTransportError)
      await expect(sent).rejects.toBeInstanceOf(CarrierError)
      await expect(sent).rejects.toMatchObject({
        code: 'ERR_NO_ENDPOINT',
        did,
        message: expect.stringContaining(`${did} has no endpoint`),
      })
      // a DID with an endpoint this agent cannot reach is a different failure
      const mqtt = createPeerDid({ service: { uri: 'mqtt://127.0.0.1:1/x' } })
      await expect(
        sender.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), { to: mqtt.did }),
      ).rejects.toMatchObject({ code: 'ERR_NO_TRANSPORT' })
    } finally {
      await sender.close()
      await pair.b.close()
    }
  })
})
