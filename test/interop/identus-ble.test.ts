import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import SDK from '@hyperledger/identus-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { bridgedTransport } from '../../src/bridge.js'
import { staticSecrets } from '../../src/did/document.js'
import { createPeerDid } from '../../src/did/peer.js'
import { packEncrypted, wrapForward } from '../../src/didcomm/pack.js'
import { createAgent, createMessage, didPeerResolver } from '../../src/index.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { startMediator } from '../mediator/support.js'
import { haveBtvirt } from '../support/btvirt.js'
import { memoryPlutoStore } from '../support/identus.js'
import { jsonLines, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'
import { useBtvirt } from '../support/use-btvirt.js'

// A device with no network (BLE on the emulated controller) behind `carrier bridge`, its DID routed
// through our mediator, and the unmodified Identus SDK (7.x) as a wallet on HTTP at the same mediator.
const BASIC = 'https://didcomm.org/basicmessage/2.0/message'
const contentOf = (body: unknown) => (typeof body === 'string' ? JSON.parse(body) : body)?.content

async function until<T>(get: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    const v = await get()
    if (v !== null) return v
    if (Date.now() - start > ms) throw new Error('not reached')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe.skipIf(!haveBtvirt())('the Identus SDK and a BLE device through carrier bridge and our mediator', () => {
  const bt = useBtvirt()
  let broker: EmbeddedBroker
  beforeAll(async () => {
    broker = await startEmbeddedBroker()
  })
  afterAll(async () => {
    await broker?.close()
  })

  it("the device's BLE message reaches the Identus wallet through the mediator, and the wallet's basicmessage reply comes back on BLE by live pickup through the bridge", {
    timeout: 90_000,
  }, async () => {
    const mediatorMqtt = makeMqttEndpoint(broker.url, newInboxKey())
    const m = await startMediator({
      more: [{ transport: await mqttEndpointTransport({ endpoint: mediatorMqtt }), endpoint: mediatorMqtt }],
    })
    const dir = tempDir('carrier-identus-ble-')
    const bridgeEndpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const bridgeId = createPeerDid({ service: { uri: bridgeEndpoint } })
    writeFileSync(join(dir, 'bridge.json'), JSON.stringify(bridgeId))
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
      'idb',
    )

    const apollo = new SDK.Apollo()
    const pluto = new SDK.Pluto(memoryPlutoStore() as never, apollo)
    const wallet = SDK.Agent.initialize({ mediatorDID: m.did, pluto, apollo })
    const received: { piuri: string; body: unknown; from?: string }[] = []
    wallet.addListener(SDK.ListenerKey.MESSAGE, (ms: { piuri: string; body: unknown; from?: { toString(): string } }[]) => {
      for (const x of ms) received.push({ piuri: x.piuri, body: x.body, from: x.from?.toString() })
    })

    // the device: its DID's service is the mediator, its only link is BLE to the bridge
    const deviceId = createRoutedPeerDid(m.did)
    const central = await BleCentralLink.connect({ hci: bt.hci, token: 'idb' })
    const device = createAgent({
      identity: deviceId,
      resolver: didPeerResolver,
      transports: [
        bridgedTransport({
          local: createTransport(central),
          bridge: bridgeId.did,
          resolver: didPeerResolver,
          schemes: ['mqtt:'],
        }),
      ],
      policy: { requireAuthenticated: true },
    })
    try {
      await wallet.start()
      const walletDid = (await wallet.createNewPeerDID([], true)).toString()
      const hostDid = await until(() => m.store.clientOfKey(walletDid))

      // mediation over BLE → bridge → MQTT, the grant back down the same way; then live mode
      const client = await useMediator(device, m.did)
      expect(await m.store.grantOf(device.did)).toMatchObject({ routingDid: m.did })
      expect(await m.store.clientOfKey(device.did)).toBe(device.did)
      await client.live({ via: mediatorMqtt })
      expect(m.mediator.liveClients()).toContain(device.did)

      // the device wraps the forward for the mediator (the wallet's service is the mediator's DID)
      const sent = await device.send(createMessage({ type: BASIC, body: { content: 'over BLE' } }), { to: walletDid })
      expect(sent.uri).toBe(mediatorMqtt)
      expect(sent.packed.forwardedThrough).toEqual([m.did])
      await wallet.startFetchingMessages(200)
      const got = await until(async () => received.find((r) => r.piuri === BASIC && contentOf(r.body) === 'over BLE') ?? null)
      expect(got.from).toBe(device.did)
      await until(async () => ((await m.store.count(hostDid)).messages === 0 ? true : null))

      // a device that hands the bridge the bare envelope for the wallet: the bridge wraps the mediator's forward
      const bare = await packEncrypted(createMessage({ type: BASIC, body: { content: 'bare over BLE' }, from: device.did }), {
        to: walletDid,
        from: device.did,
        resolver: didPeerResolver,
        secrets: staticSecrets(deviceId.secrets),
        forward: false,
      })
      await createTransport(central).send(
        await wrapForward(bare.packed, { next: walletDid, hop: bridgeId.did, resolver: didPeerResolver }),
      )
      const got2 = await until(
        async () => received.find((r) => r.piuri === BASIC && contentOf(r.body) === 'bare over BLE') ?? null,
      )
      expect(got2.from).toBe(device.did)

      // the wallet's reply goes to the mediator (the device's service), live to the bridge's inbox, down BLE
      const inbox = device.messages()[Symbol.asyncIterator]()
      const reply = new SDK.BasicMessage(
        { content: 'reply from Identus' },
        SDK.Domain.DID.fromString(walletDid),
        SDK.Domain.DID.fromString(device.did),
      )
      await wallet.send(reply.makeMessage())
      const back = (await inbox.next()).value
      expect(back?.message).toMatchObject({ type: BASIC, from: walletDid, body: { content: 'reply from Identus' } })
      expect(back?.metadata.authenticated).toBe(true)
      await until(async () => ((await m.store.count(device.did)).messages === 0 ? true : null))

      // the bridge opened only its forwards: what it passed down was for the device
      const relayed = jsonLines<{ direction?: string; next?: string }>(bridge.stdout()).filter((r) => r.direction)
      expect(relayed.filter((r) => r.direction === 'toRemote').map((r) => r.next)).toEqual([
        m.did, // mediate-request
        m.did, // recipient-update
        m.did, // live-delivery-change
        m.did, // the forward for the wallet
        walletDid, // the bare envelope, forward-wrapped for the mediator by the bridge
        ...relayed
          .filter((r) => r.direction === 'toRemote')
          .slice(5)
          .map(() => m.did), // messages-received
      ])
      expect(new Set(relayed.filter((r) => r.direction === 'toLocal').map((r) => r.next))).toEqual(new Set([device.did]))
    } finally {
      bridge.kill()
      await wallet.stop()
      await device.close()
      await m.mediator.close()
    }
  })
})
