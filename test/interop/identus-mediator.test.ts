import { join } from 'node:path'
import SDK from '@hyperledger/identus-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { webEndpointTransport } from '../../adapters/http/index.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { type Agent, createAgent, createMessage, createPeerDid, didPeerResolver } from '../../src/index.js'
import { mediatorProcess, startMediator } from '../mediator/support.js'
import { memoryPlutoStore } from '../support/identus.js'
import { freePort } from '../support/mosquitto.js'
import { tempDir } from '../support/temp.js'

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

describe('the Identus SDK through a carrier mediator process restarted on its SQLite store', () => {
  it('restarted with the same flags and no --identity, the mediator keeps its DID; the wallet picks up what was queued before the restart', async () => {
    const dir = tempDir('carrier-identus-restart-')
    const port = await freePort()
    const args = ['--http', `127.0.0.1:${port}`, '--ws', '--store', `sqlite:${join(dir, 'queue.db')}`, '--threads', '0']
    let med = await mediatorProcess(...args)
    const mediatorDid = med.did
    const wallet = await identusWallet(mediatorDid, false)
    const alice = createAgent({
      identity: createPeerDid(),
      resolver: didPeerResolver,
      transports: [await webEndpointTransport()],
    })
    const stopped = (p: typeof med.proc) =>
      new Promise<number | null>((r) => {
        p.once('exit', (code) => r(code))
        p.kill('SIGTERM')
      })
    try {
      const walletDid = (await wallet.agent.createNewPeerDID([], true)).toString()
      // queued (202: on disk) while the wallet does not pick up
      const sent = await alice.send(createMessage({ type: BASIC, body: { content: 'queued before the restart' } }), {
        to: walletDid,
      })
      expect(sent.uri).toBe(`http://127.0.0.1:${port}/`)
      // the wallet is closed meanwhile (the SDK's fetch job ends at its first connection error)
      await wallet.agent.stop()
      expect(await stopped(med.proc)).toBe(0)
      med = await mediatorProcess(...args)
      expect(med.did).toBe(mediatorDid) // kept in the store: the wallet's mediation and routing still hold
      await wallet.agent.start()
      await wallet.agent.startFetchingMessages(200)
      const got = await until(async () => wallet.received.find((r) => r.piuri === BASIC) ?? null)
      expect(contentOf(got.body)).toBe('queued before the restart')
      expect(got.from).toBe(alice.did)
      // acknowledged: nothing left in the queue
      await until(async () => {
        const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
        return /^carrier_mediator_queue_messages 0$/m.test(m) ? true : null
      })
    } finally {
      await wallet.agent.stop()
      await alice.close()
      if (med.proc.exitCode === null) await stopped(med.proc)
    }
  }, 120_000)
})
