import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { createAgent } from '../../src/agent.js'
import { bridgedTransport } from '../../src/bridge.js'
import { chainResolvers, staticResolver, staticSecrets } from '../../src/did/document.js'
import { createPeerDid, didPeerResolver } from '../../src/did/peer.js'
import { createMessage } from '../../src/didcomm/message.js'
import { packEncrypted, wrapForward } from '../../src/didcomm/pack.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { haveBtvirt } from '../support/btvirt.js'
import { jsonLines, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'
import { useBtvirt } from '../support/use-btvirt.js'

describe.skipIf(!haveBtvirt())('carrier bridge --from ble: a device with no network reaches an agent behind MQTT', () => {
  const bt = useBtvirt()
  let broker: EmbeddedBroker
  beforeAll(async () => {
    broker = await startEmbeddedBroker()
  })
  afterAll(async () => {
    await broker?.close()
  })

  it('BLE central → bridge → MQTT → agent, and the reply back; the bridge opens only its forward', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir('carrier-bridge-')
    const bridgeEndpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const bridgeId = createPeerDid({ service: { uri: bridgeEndpoint } })
    writeFileSync(join(dir, 'bridge.json'), JSON.stringify(bridgeId))
    // the device is reachable through the bridge: the bridge's inbox, the bridge's key as routing key
    const deviceId = createPeerDid({ service: { uri: bridgeEndpoint, routingKeys: [`${bridgeId.did}#key-1`] } })
    const agentEndpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const agentId = createPeerDid({ service: { uri: agentEndpoint } })

    const bridge = startCarrier(
      '--json',
      'bridge',
      '--from',
      'ble',
      '--identity',
      join(dir, 'bridge.json'),
      '--hci',
      bt.hci,
      '--token',
      'brg',
    )
    const agent = createAgent({
      identity: agentId,
      resolver: didPeerResolver,
      transports: [await mqttEndpointTransport({ endpoint: agentEndpoint })],
      policy: { requireAuthenticated: true },
    })
    const central = await BleCentralLink.connect({ hci: bt.hci, token: 'brg' })
    const toBridge = createTransport(central)
    const device = createAgent({
      identity: deviceId,
      resolver: didPeerResolver,
      transports: [bridgedTransport({ local: toBridge, bridge: bridgeId.did, resolver: didPeerResolver })],
      policy: { requireAuthenticated: true },
    })
    try {
      const atAgent = agent.messages()[Symbol.asyncIterator]()
      const atDevice = device.messages()[Symbol.asyncIterator]()
      const sent = await device.send(
        createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'temperature 21.5' } }),
        {
          to: agentId.did,
        },
      )
      expect(sent.uri).toBe(agentEndpoint)
      const got = (await atAgent.next()).value
      expect(got?.message.body).toEqual({ content: 'temperature 21.5' })
      expect(got?.message.from).toBe(deviceId.did)
      expect(got?.metadata.authenticated).toBe(true)

      const reply = await agent.send(
        createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'ack' } }),
        {
          to: deviceId.did,
        },
      )
      expect(reply.uri).toBe(bridgeEndpoint)
      expect(reply.packed.forwardedThrough).toEqual([`${bridgeId.did}#key-1`])
      const back = (await atDevice.next()).value
      expect(back?.message.body).toEqual({ content: 'ack' })
      expect(back?.message.from).toBe(agentId.did)

      await bridge.line(/"direction":"toLocal"/)
      const relayed = jsonLines<{ direction: string; next: string }>(bridge.stdout())
      expect(relayed.map((r) => [r.direction, r.next])).toEqual([
        ['toRemote', agentId.did],
        ['toLocal', deviceId.did],
      ])

      // bad input on the BLE side: each refused with its reason, and the bridge goes on
      const notAForward = await packEncrypted(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), {
        to: bridgeId.did,
        resolver: didPeerResolver,
        secrets: staticSecrets([]),
      })
      await toBridge.send(notAForward.packed)
      const inner = await packEncrypted(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: {} }), {
        to: agentId.did,
        resolver: didPeerResolver,
        secrets: staticSecrets([]),
      })
      const nowhere = createPeerDid() // no service endpoint
      const noRoute = await wrapForward(inner.packed, {
        next: nowhere.did,
        hop: bridgeId.did,
        resolver: chainResolvers(didPeerResolver, staticResolver([nowhere.document])),
      })
      await toBridge.send(noRoute)
      await toBridge.send('{"protected":"eyJ0eXAiOiJKV00ifQ","ciphertext":"not a JWE"}')
      await bridge.line(/"refused":"ERR_DIDCOMM_UNSUPPORTED_ALGORITHM/)
      const refused = jsonLines<{ refused?: string }>(bridge.stdout()).flatMap((r) => (r.refused ? [r.refused] : []))
      expect(refused).toHaveLength(3)
      expect(refused[0]).toMatch(/^ERR_NOT_A_FORWARD: /)
      expect(refused[1]).toMatch(/^ERR_NO_ROUTE: did:peer:2\..* has no DIDCommMessaging endpoint/)
      expect(refused[2]).toMatch(/^ERR_DIDCOMM_UNSUPPORTED_ALGORITHM: key management undefined/) // a JWE without recipients
      await device.send(
        createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'still here' } }),
        {
          to: agentId.did,
        },
      )
      expect((await atAgent.next()).value?.message.body).toEqual({ content: 'still here' })
    } finally {
      bridge.kill()
      await device.close()
      await agent.close()
    }
  })
})
