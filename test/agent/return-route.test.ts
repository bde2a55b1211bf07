import { describe, expect, it } from 'vitest'
import { createAgent, createMessage, createPeerDid, didPeerResolver, oneLinkEndpointTransport } from '../../src/index.js'
import { memoryLinkPair } from '../../src/testing/index.js'
import { createTransport } from '../../src/wire/create-transport.js'

// The agent's return_route logic over an in-memory link (the real links have their own tests:
// test/ble/agent.test.ts, the NFC suite, agents over MQTT).
describe('return_route', () => {
  it('a link that is gone is forgotten: the answer falls back to the DID document, and says there is no way', async () => {
    const pair = memoryLinkPair({ mtu: 1024 })
    const kiosk = createAgent({
      identity: createPeerDid({ service: { uri: 'nfc:' } }),
      resolver: didPeerResolver,
      transports: [oneLinkEndpointTransport(createTransport(pair.a), ['nfc:'])],
    })
    const phoneId = createPeerDid() // no endpoint: only the link can reach it
    const phone = createAgent({
      identity: phoneId,
      resolver: didPeerResolver,
      transports: [oneLinkEndpointTransport(createTransport(pair.b), ['nfc:'])],
    })
    const basic = (content: string) => createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content } })
    try {
      const atKiosk = kiosk.messages()[Symbol.asyncIterator]()
      await phone.send(basic('hello'), { to: kiosk.did, returnRoute: 'all' })
      expect((await atKiosk.next()).value?.message.return_route).toBe('all')
      await pair.a.close()
      await expect(kiosk.send(basic('too late'), { to: phoneId.did })).rejects.toMatchObject({ code: 'ERR_NO_ENDPOINT' })
      // forgotten: the next answer goes straight to the DID document
      await expect(kiosk.send(basic('still nothing'), { to: phoneId.did })).rejects.toMatchObject({ code: 'ERR_NO_ENDPOINT' })
    } finally {
      await phone.close()
      await kiosk.close()
    }
  })

  it('a message that does not ask for it is never answered over its link', async () => {
    const pair = memoryLinkPair({ mtu: 1024 })
    const kiosk = createAgent({
      identity: createPeerDid({ service: { uri: 'nfc:' } }),
      resolver: didPeerResolver,
      transports: [oneLinkEndpointTransport(createTransport(pair.a), ['nfc:'])],
    })
    const phoneId = createPeerDid()
    const phone = createAgent({
      identity: phoneId,
      resolver: didPeerResolver,
      transports: [oneLinkEndpointTransport(createTransport(pair.b), ['nfc:'])],
    })
    try {
      const atKiosk = kiosk.messages()[Symbol.asyncIterator]()
      await phone.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), { to: kiosk.did })
      expect((await atKiosk.next()).value?.message.return_route).toBeUndefined()
      await expect(
        kiosk.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), { to: phoneId.did }),
      ).rejects.toMatchObject({ code: 'ERR_NO_ENDPOINT' })
    } finally {
      await phone.close()
      await kiosk.close()
    }
  })
})
