import SDK from '@hyperledger/identus-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { type Agent, createAgent, createMessage, didPeerResolver } from '../../src/index.js'
import { startMediator } from '../mediator/support.js'
import { memoryPlutoStore } from '../support/identus.js'

// The unmodified Identus edge agent SDK (7.x) as a wallet in this process, against our mediator.
const BASIC = 'https://didcomm.org/basicmessage/2.0/message'

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker()
  // live mode needs a global WebSocket (Node 20 has none)
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
})
afterAll(async () => {
  await broker?.close()
})

/** The mediator on HTTP + WS + MQTT at once. */
async function mediatorOnAllThree() {
  const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
  const mqtt = await mqttEndpointTransport({ endpoint, clientId: `mediator-${process.pid}-${Math.random()}` })
  const m = await startMediator({ more: [{ transport: mqtt, endpoint }] })
  return { ...m, mqttEndpoint: endpoint }
}

async function identusWallet(mediatorDid: string, liveMode: boolean) {
  const apollo = new SDK.Apollo()
  const pluto = new SDK.Pluto(memoryPlutoStore() as never, apollo)
  const agent = SDK.Agent.initialize({ mediatorDID: mediatorDid, pluto, apollo, options: { experiments: { liveMode } } })
  const received: { piuri: string; body: unknown; from?: string }[] = []
  agent.addListener(SDK.ListenerKey.MESSAGE, (messages: { piuri: string; body: unknown; from?: { toString(): string } }[]) => {
    for (const m of messages) received.push({ piuri: m.piuri, body: m.body, from: m.from?.toString() })
  })
  await agent.start()
  return { agent, received }
}

/** A toolkit device on MQTT only, its DID routed through the mediator, picking up live over MQTT. */
async function deviceOnMqtt(mediatorDid: string, mediatorMqtt: string): Promise<Agent> {
  const inbox = makeMqttEndpoint(broker.url, newInboxKey()) // where the mediator's answers come back
  const device = createAgent({
    identity: createRoutedPeerDid(mediatorDid),
    resolver: didPeerResolver,
    transports: [await mqttEndpointTransport({ endpoint: inbox, clientId: `device-${process.pid}-${Math.random()}` })],
  })
  const client = await useMediator(device, mediatorDid)
  await client.live({ via: mediatorMqtt })
  return device
}

async function until<T>(get: () => Promise<T | null>, ms = 30_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    const v = await get()
    if (v !== null) return v
    if (Date.now() - start > ms) throw new Error('not reached')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const contentOf = (body: unknown) => (typeof body === 'string' ? JSON.parse(body) : body)?.content

describe('the Identus SDK as an edge agent through our mediator', () => {
  for (const liveMode of [false, true]) {
    it(`gets mediation over HTTP, registers its DID, receives a device's MQTT message by ${liveMode ? 'live mode over WebSocket' : 'polling pickup'}, and its basicmessage reply reaches the device on MQTT`, async () => {
      const m = await mediatorOnAllThree()
      const wallet = await identusWallet(m.did, liveMode)
      const device = await deviceOnMqtt(m.did, m.mqttEndpoint)
      try {
        // mediation granted over HTTP (2.0, routing_did a string), then the new DID registered by the host DID
        const walletDid = (await wallet.agent.createNewPeerDID([], true)).toString()
        const hostDid = await until(() => m.store.clientOfKey(walletDid))
        expect(await m.store.grantOf(hostDid)).toMatchObject({ routingDid: m.did })
        if (liveMode) await until(async () => (m.mediator.liveClients().includes(hostDid) ? true : null))

        const sent = await device.send(
          createMessage({ type: BASIC, body: { content: `hello over MQTT (${liveMode ? 'live' : 'poll'})` } }),
          {
            to: walletDid,
          },
        )
        expect(sent.uri).toBe(m.mqttEndpoint)
        expect(sent.packed.forwardedThrough).toEqual([m.did])
        if (!liveMode) await wallet.agent.startFetchingMessages(200)
        const got = await until(async () => wallet.received.find((r) => r.piuri === BASIC) ?? null)
        expect(contentOf(got.body)).toBe(`hello over MQTT (${liveMode ? 'live' : 'poll'})`)
        expect(got.from).toBe(device.did)
        // picked up and acknowledged (messages-received): nothing waits for the wallet
        await until(async () => ((await m.store.count(hostDid)).messages === 0 ? true : null))

        const inbox = device.messages()[Symbol.asyncIterator]()
        const reply = new SDK.BasicMessage(
          { content: 'reply from Identus' },
          SDK.Domain.DID.fromString(walletDid),
          SDK.Domain.DID.fromString(device.did),
        )
        await wallet.agent.send(reply.makeMessage())
        const back = (await inbox.next()).value
        expect(back?.message).toMatchObject({ type: BASIC, from: walletDid, body: { content: 'reply from Identus' } })
        expect(back?.metadata.authenticated).toBe(true)
      } finally {
        await wallet.agent.stop()
        await device.close()
        await m.mediator.close()
      }
    })
  }
})
