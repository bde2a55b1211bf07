import { join } from 'node:path'
import type { IMessage } from '@veramo/core'
import {
  createV3DeliveryRequestMessage,
  createV3MediateRequestMessage,
  createV3RecipientUpdateMessage,
  createV3StatusRequestMessage,
  type IDIDCommMessage,
} from '@veramo/did-comm'
import { AbstractMessageHandler, type Message as VeramoMessage } from '@veramo/message-handler'
import { afterEach, describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { createAgent, createPeerDid, didPeerResolver, type EndpointTransport } from '../../src/index.js'
import { createMediator, mediatorIdentity } from '../../src/mediator/index.js'
import { openStore } from '../../stores/index.js'
import { SqliteMessageStore } from '../../stores/sqlite/index.js'
import { basic, mediatorProcess } from '../mediator/support.js'
import { stopChild } from '../support/child.js'
import { freePort } from '../support/mosquitto.js'
import { tempDir } from '../support/temp.js'
import { createVeramoAgent, createVeramoPeerDid } from '../support/veramo.js'

/**
 * The unmodified Veramo 7 agent of test/support/veramo.ts as a mediation client of our mediator
 * on loopback HTTP: coordinate-mediation 3.0, pickup 3.0, every request in Veramo's own authcrypt
 * variant (which the mediator reads and answers in), every message posted to each of the
 * mediator's two HTTP services.
 */

/** The last handler in Veramo's chain (its public AbstractMessageHandler): keeps what reaches it. */
class Keep extends AbstractMessageHandler {
  readonly seen: VeramoMessage[] = []
  override async handle(message: VeramoMessage): Promise<VeramoMessage> {
    this.seen.push(message)
    return message
  }
}

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})

/** The transport, counting the envelopes that arrive by it (each of Veramo's posts). */
function counting(t: EndpointTransport): { transport: EndpointTransport; arrived: () => number } {
  let n = 0
  const transport: EndpointTransport = {
    schemes: t.schemes,
    send: (uri, envelope, o) => t.send(uri, envelope, o),
    async *incoming() {
      for await (const e of t.incoming()) {
        n++
        yield e
      }
    },
    close: () => t.close(),
  }
  return { transport, arrived: () => n }
}

/** Our mediator with two HTTP services (Veramo posts to both) and a WebSocket one (Veramo ignores it). */
async function startMediator(storeUri = 'memory:') {
  const web = await webEndpointTransport({ listen: {} })
  const server = web.server as NonNullable<typeof web.server>
  const identity = mediatorIdentity([server.url, `${server.url}didcomm`, server.wsUrl])
  const store = await openStore(storeUri)
  closers.push(() => store.close())
  const errors: unknown[] = []
  const { transport, arrived } = counting(web)
  const mediator = createMediator({
    identity,
    store,
    resolver: didPeerResolver,
    transports: [transport],
    onError: (e) => errors.push(e),
  })
  closers.push(() => mediator.close())
  return { mediator, store, server, errors, arrived, did: identity.did }
}

async function veramoClient(mediatorDid: string) {
  const keep = new Keep()
  const veramo = createVeramoAgent({ messageHandlers: [keep] })
  // its DID's service is the mediator's DID: senders wrap a forward to it
  const did = (await createVeramoPeerDid(veramo, mediatorDid)).did
  /** Packs in Veramo's authcrypt, posts to every service of the mediator, handles the answer. */
  async function ask(message: IDIDCommMessage): Promise<IMessage | undefined> {
    const packedMessage = await veramo.packDIDCommMessage({ packing: 'authcrypt', message })
    const r = await veramo.sendDIDCommMessage({ packedMessage, recipientDidUrl: mediatorDid, messageId: message.id })
    return r.returnMessage
  }
  return { veramo, did, keep, ask }
}

async function toolkitSender() {
  const web = await webEndpointTransport()
  const agent = createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [web] })
  closers.push(() => agent.close())
  return agent
}

const BASIC = 'https://didcomm.org/basicmessage/2.0/message'
const STATUS = 'https://didcomm.org/messagepickup/3.0/status'
const PROBLEM = 'https://didcomm.org/report-problem/2.0/problem-report'

/** Granted mediation and its DID registered, as Veramo's helpers say it. */
async function mediated(v: Awaited<ReturnType<typeof veramoClient>>, mediatorDid: string) {
  await v.ask(createV3MediateRequestMessage(v.did, mediatorDid))
  await v.ask(createV3RecipientUpdateMessage(v.did, mediatorDid, [{ recipient_did: v.did, action: 'add' } as never]))
}

describe('Veramo 7 as a mediation client of our mediator', () => {
  const stores = { memory: () => 'memory:', SQLite: () => `sqlite:${tempDir('carrier-veramo-')}/mediator.db` }
  for (const [name, uri] of Object.entries(stores))
    it(`gets mediation (3.0), registers its DID, picks up (3.0) a toolkit message exactly once (${name} store)`, async () => {
      const m = await startMediator(uri())
      const v = await veramoClient(m.did)
      expect((await v.veramo.resolveDid({ didUrl: v.did })).didResolutionMetadata.error).toBeUndefined()

      // every answer is opened by Veramo: authcrypt in its own variant, from the mediator
      const grant = await v.ask(createV3MediateRequestMessage(v.did, m.did))
      expect(grant).toMatchObject({
        type: 'https://didcomm.org/coordinate-mediation/3.0/mediate-grant',
        from: m.did,
        data: { routing_did: [m.did] },
      })
      expect(grant?.metaData).toContainEqual({ type: 'didCommMetaData', value: JSON.stringify({ packing: 'authcrypt' }) })

      const updated = await v.ask(
        createV3RecipientUpdateMessage(v.did, m.did, [{ recipient_did: v.did, action: 'add' } as never]),
      )
      expect(updated).toMatchObject({
        type: 'https://didcomm.org/coordinate-mediation/3.0/recipient-update-response',
        data: { updates: [{ recipient_did: v.did, action: 'add', result: 'success' }] },
      })
      expect(await m.store.clientOfKey(v.did)).toBe(v.did)

      // a toolkit agent resolves Veramo's DID (service: the mediator's DID) and wraps a forward to it
      const sender = await toolkitSender()
      const sent = await sender.send(basic('through the mediator'), { to: v.did, compat: 'veramo' })
      expect(sent.uri).toBe(m.server.url)
      expect(await m.store.count(v.did)).toMatchObject({ messages: 1 })

      const status = await v.ask(createV3StatusRequestMessage(v.did, m.did))
      expect(status).toMatchObject({ type: STATUS, data: { message_count: 1 } })

      // the delivery (from the mediator, attachments {id, media_type, data.json}): Veramo's handler
      // takes each message, then sends messages-received (authcrypt, its variant) and reads the status
      const before = m.arrived()
      const delivery = await v.ask(createV3DeliveryRequestMessage(v.did, m.did))
      // delivery-request and messages-received, each posted to both HTTP services
      expect(m.arrived() - before).toBe(4)
      expect(delivery).toMatchObject({ type: 'https://didcomm.org/messagepickup/3.0/delivery', from: m.did })
      const [attachment] = (delivery?.attachments ?? []) as { id?: string; media_type?: string; data: { json?: unknown } }[]
      expect(attachment).toMatchObject({ media_type: 'application/didcomm-encrypted+json', data: { json: expect.any(Object) } })
      expect(attachment?.id).toEqual(expect.any(String))
      const basics = () => v.keep.seen.filter((x) => x.type === BASIC)
      expect(basics()).toHaveLength(1)
      expect(basics()[0]).toMatchObject({ from: sender.did, to: v.did, data: { content: 'through the mediator' } })
      expect(v.keep.seen.at(-1)).toMatchObject({ type: STATUS, data: { message_count: 0 } }) // messages-received answered
      expect(await m.store.count(v.did)).toEqual({ messages: 0, bytes: 0 })

      // a second pickup gets nothing
      const again = await v.ask(createV3DeliveryRequestMessage(v.did, m.did))
      expect(again).toMatchObject({ type: STATUS, data: { message_count: 0 } })
      expect(basics()).toHaveLength(1)
      expect(m.errors).toEqual([])
    })

  it("a trust ping in Veramo's authcrypt with return_route is answered in it (the agent's automatic answers follow the request's form)", async () => {
    const m = await startMediator()
    const v = await veramoClient(m.did)
    // the shape of Veramo's createTrustPingMessage (not exported by the package), with return_route
    const ping = {
      type: 'https://didcomm.org/trust-ping/2.0/ping',
      from: v.did,
      to: [m.did],
      id: 'ping-1',
      body: { responseRequested: true },
    }
    const answer = await v.ask({ ...ping, return_route: 'all' })
    expect(answer).toMatchObject({ type: 'https://didcomm.org/trust-ping/2.0/ping-response', from: m.did })
    expect(answer?.metaData).toContainEqual({ type: 'didCommMetaData', value: JSON.stringify({ packing: 'authcrypt' }) })
  })

  it('each request posted to both HTTP services is handled once: the second copy is a 202 with no answer', async () => {
    const m = await startMediator()
    const v = await veramoClient(m.did)
    await mediated(v, m.did)
    const sender = await toolkitSender()
    await sender.send(basic('once'), { to: v.did, compat: 'veramo' })
    const request = createV3DeliveryRequestMessage(v.did, m.did)
    const { message } = await v.veramo.packDIDCommMessage({ packing: 'authcrypt', message: request })
    const post = (url: string) =>
      fetch(url, { method: 'POST', body: message, headers: { 'content-type': 'application/didcomm-encrypted+json' } })
    const first = await post(m.server.url)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^application\/didcomm-encrypted\+json/)
    expect((await v.veramo.unpackDIDCommMessage({ message: await first.text() })).message.type).toBe(
      'https://didcomm.org/messagepickup/3.0/delivery',
    )
    const second = await post(`${m.server.url}didcomm`)
    expect(second.status).toBe(202)
    expect(await second.text()).toBe('')
  })

  it('Veramo sending to a toolkit agent routed through our mediator posts the forward to both services: queued once', async () => {
    const m = await startMediator()
    const web = await webEndpointTransport()
    const device = createAgent({ identity: createRoutedPeerDid(m.did), resolver: didPeerResolver, transports: [web] })
    closers.push(() => device.close())
    const client = await useMediator(device, m.did, { version: '3.0' })
    const v = await veramoClient(m.did)
    const message = { id: 'v-1', type: BASIC, from: v.did, to: [device.did], body: { content: 'from Veramo' } }
    const packedMessage = await v.veramo.packDIDCommMessage({ packing: 'anoncrypt', message })
    const before = m.arrived()
    await v.veramo.sendDIDCommMessage({ packedMessage, recipientDidUrl: device.did, messageId: message.id })
    expect(m.arrived() - before).toBe(2)
    expect(await m.store.count(device.did)).toMatchObject({ messages: 1 })
    const got: unknown[] = []
    const ac = new AbortController()
    const reading = (async () => {
      for await (const r of device.messages({ signal: ac.signal })) got.push(r.message.body)
    })().catch(() => undefined)
    expect(await client.drain()).toBe(1)
    expect(await m.store.count(device.did)).toMatchObject({ messages: 0 })
    ac.abort()
    await reading
    expect(got).toEqual([{ content: 'from Veramo' }])
  })
})

describe('Veramo 7 and a `carrier mediator` process', () => {
  it('gets mediation, registers, picks up a toolkit message exactly once; the SQLite queue is empty after', async () => {
    const dir = tempDir('carrier-veramo-cli-')
    const file = join(dir, 'queue.db')
    const med = await mediatorProcess('--http', `127.0.0.1:${await freePort()}`, '--store', `sqlite:${file}`)
    closers.push(() => stopChild(med.proc))
    const v = await veramoClient(med.did)
    const grant = await v.ask(createV3MediateRequestMessage(v.did, med.did))
    expect(grant).toMatchObject({ from: med.did, data: { routing_did: [med.did] } })
    const updated = await v.ask(
      createV3RecipientUpdateMessage(v.did, med.did, [{ recipient_did: v.did, action: 'add' } as never]),
    )
    expect(updated?.data).toMatchObject({ updates: [{ recipient_did: v.did, result: 'success' }] })
    const sender = await toolkitSender()
    await sender.send(basic('from the toolkit, via carrier mediator'), { to: v.did, compat: 'veramo' })
    expect(await v.ask(createV3StatusRequestMessage(v.did, med.did))).toMatchObject({ type: STATUS, data: { message_count: 1 } })
    await v.ask(createV3DeliveryRequestMessage(v.did, med.did))
    expect(await v.ask(createV3DeliveryRequestMessage(v.did, med.did))).toMatchObject({
      type: STATUS,
      data: { message_count: 0 },
    })
    const basics = v.keep.seen.filter((x) => x.type === BASIC)
    expect(basics).toHaveLength(1)
    expect(basics[0]).toMatchObject({ from: sender.did, data: { content: 'from the toolkit, via carrier mediator' } })
    await stopChild(med.proc)
    const store = await SqliteMessageStore.open(file)
    expect(await store.count(v.did)).toEqual({ messages: 0, bytes: 0 })
    expect(await store.clientOfKey(v.did)).toBe(v.did)
    await store.close()
  })
})

describe('what the mediator does not let a Veramo client do', () => {
  async function victimWithMail() {
    const m = await startMediator()
    const victim = await veramoClient(m.did)
    await mediated(victim, m.did)
    await (await toolkitSender()).send(basic('for the victim'), { to: victim.did, compat: 'veramo' })
    return { m, victim }
  }

  it('pick up what another client registered by naming its key in recipient_key: refused, nothing delivered', async () => {
    const { m, victim } = await victimWithMail()
    const eve = await veramoClient(m.did)
    await mediated(eve, m.did)
    const request = createV3DeliveryRequestMessage(eve.did, m.did)
    request.body = { limit: 2, recipient_key: `${victim.did}#key-1` }
    const answer = await eve.ask(request)
    expect(answer).toMatchObject({ type: PROBLEM, data: { code: 'e.p.req.unknown-recipient' } })
    expect(eve.keep.seen.filter((x) => x.type === BASIC)).toEqual([])
    expect(await m.store.count(victim.did)).toMatchObject({ messages: 1 })
    // the victim naming its own key is served
    const own = createV3DeliveryRequestMessage(victim.did, m.did)
    own.body = { limit: 2, recipient_key: `${victim.did}#key-1` }
    await victim.ask(own)
    expect(victim.keep.seen.filter((x) => x.type === BASIC)).toHaveLength(1)
    expect(await m.store.count(victim.did)).toMatchObject({ messages: 0 })
  })

  it('pick up without a grant: refused', async () => {
    const { m, victim } = await victimWithMail()
    const eve = await veramoClient(m.did)
    const request = createV3DeliveryRequestMessage(eve.did, m.did)
    request.body = { limit: 2, recipient_key: `${victim.did}#key-1` }
    expect(await eve.ask(request)).toMatchObject({ type: PROBLEM, data: { code: 'e.p.req.not-granted' } })
    expect(await m.store.count(victim.did)).toMatchObject({ messages: 1 })
  })

  it("pick up anoncrypted with the victim's DID in from: refused (from is not proven)", async () => {
    const { m, victim } = await victimWithMail()
    const eve = await veramoClient(m.did)
    const request = createV3DeliveryRequestMessage(victim.did, m.did)
    const packedMessage = await eve.veramo.packDIDCommMessage({ packing: 'anoncrypt', message: request })
    await expect(eve.veramo.sendDIDCommMessage({ packedMessage, recipientDidUrl: m.did, messageId: request.id })).rejects.toThrow(
      'Could not send DIDComm message using any of the attepmpted transports',
    )
    expect(await m.store.count(victim.did)).toMatchObject({ messages: 1 })
  })

  it("remove another client's recipient: client_error, it stays", async () => {
    const { m, victim } = await victimWithMail()
    const eve = await veramoClient(m.did)
    await mediated(eve, m.did)
    const answer = await eve.ask(
      createV3RecipientUpdateMessage(eve.did, m.did, [{ recipient_did: victim.did, action: 'remove' } as never]),
    )
    expect(answer).toMatchObject({ data: { updates: [{ recipient_did: victim.did, result: 'client_error' }] } })
    expect(await m.store.clientOfKey(victim.did)).toBe(victim.did)
  })

  it("ask for mediation in Veramo's authcrypt to two recipients (bcc): refused, any recipient could forge it", async () => {
    const m = await startMediator()
    const v = await veramoClient(m.did)
    const request = createV3MediateRequestMessage(v.did, m.did)
    const packedMessage = await v.veramo.packDIDCommMessage({
      packing: 'authcrypt',
      message: request,
      options: { bcc: [createPeerDid().did] },
    })
    expect(JSON.parse(packedMessage.message).recipients).toHaveLength(2)
    await expect(v.veramo.sendDIDCommMessage({ packedMessage, recipientDidUrl: m.did, messageId: request.id })).rejects.toThrow(
      'Could not send DIDComm message using any of the attepmpted transports',
    )
    expect(m.errors).toContainEqual(
      expect.objectContaining({ code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM', message: 'authcrypt with A256GCM' }),
    )
    expect(await m.store.grantOf(v.did)).toBeNull()
  })

  it("an agent that is not the mediator keeps refusing Veramo's authcrypt (no compat by default)", async () => {
    const v = await veramoClient('did:example:unused')
    const me = createPeerDid()
    const errors: unknown[] = []
    const agent = createAgent({ identity: me, resolver: didPeerResolver, transports: [], onError: (e) => errors.push(e) })
    const message = { id: 'v-2', type: BASIC, from: v.did, to: [me.did], body: { content: 'strict' } }
    const { message: packed } = await v.veramo.packDIDCommMessage({ packing: 'authcrypt', message })
    await agent.accept({
      data: new TextEncoder().encode(packed),
      mediaType: 'application/didcomm-encrypted+json',
      transferId: 'x',
    })
    expect(errors).toMatchObject([{ code: 'ERR_DIDCOMM_UNSUPPORTED_ALGORITHM' }])
  })
})
