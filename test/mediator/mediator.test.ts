import { describe, expect, it } from 'vitest'
import { HttpStatusError } from '../../adapters/http/index.js'
import { MediationClient, useMediator } from '../../src/agent/mediation.js'
import { createMessage, didPeerResolver, MEDIA_ENCRYPTED, ProblemReportError, packEncrypted } from '../../src/index.js'
import {
  deliveryRequest,
  disclosedFeatures,
  discoverQueries,
  mediateRequest,
  PROBLEM_REPORT,
  recipientUpdate,
  statusRequest,
} from '../../src/protocols/index.js'
import { basic, routedAgent, sender, startMediator } from './support.js'

const contentOf = async (agent: { messages(): AsyncIterable<{ message: { body?: Record<string, unknown> } }> }) => {
  for await (const { message } of agent.messages()) return message.body?.content
}

describe('mediator: coordinate-mediation, forward, pickup (toolkit agents over HTTP/WS)', () => {
  it('grants 2.0 with routing_did a string and 3.0 with an array; keys listed back', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    try {
      const g2 = await carol.agent.request(mediateRequest('2.0'), { to: m.did })
      expect(g2.message.body?.routing_did).toBe(m.did)
      const g3 = await carol.agent.request(mediateRequest('3.0'), { to: m.did })
      expect(g3.message.body?.routing_did).toEqual([m.did])
      const client = await MediationClient.request(carol.agent, m.did, { version: '3.0' })
      expect(await client.addRecipients([carol.did])).toEqual(['success'])
      expect(await client.addRecipients([carol.did])).toEqual(['no_change'])
      expect(await client.recipients()).toEqual([carol.did])
      const disclose = await carol.agent.request(discoverQueries([{ 'feature-type': 'protocol', match: '*' }]), { to: m.did })
      expect(disclosedFeatures(disclose.message).map((f) => f.id)).toContain('https://didcomm.org/messagepickup/3.0')
    } finally {
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it('a forward waits in the store until picked up by polling, then messages-received removes it', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const alice = await sender()
    try {
      const client = await useMediator(carol.agent, m.did)
      const sent = await alice.send(basic('for carol'), { to: carol.did })
      expect(sent.packed.forwardedThrough).toEqual([m.did])
      expect(sent.uri).toBe(m.server.url)
      expect((await m.store.count(carol.did)).messages).toBe(1) // stored before the 202
      expect((await client.status()).message_count).toBe(1)
      const got = contentOf(carol.agent)
      expect(await client.pickup()).toBe(1)
      expect(await got).toBe('for carol')
      expect(await m.store.count(carol.did)).toEqual({ messages: 0, bytes: 0 })
      expect(await client.pickup()).toBe(0)
    } finally {
      await alice.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it("a pickup filter (recipient_did) naming another client's DID is refused; its own is served", async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const eve = await routedAgent(m.did)
    const alice = await sender()
    try {
      const client = await useMediator(carol.agent, m.did)
      await useMediator(eve.agent, m.did)
      await alice.send(basic('for carol'), { to: carol.did })
      for (const r of [deliveryRequest({ limit: 10, recipientDid: carol.did }), statusRequest({ recipientDid: carol.did })])
        await expect(eve.agent.request(r, { to: m.did })).rejects.toMatchObject({ problemCode: 'e.p.req.unknown-recipient' })
      expect((await m.store.count(carol.did)).messages).toBe(1)
      const own = await carol.agent.request(statusRequest({ recipientDid: carol.did }), { to: m.did })
      expect(own.message.body?.message_count).toBe(1)
      expect(await client.pickup()).toBe(1)
    } finally {
      await alice.close()
      await carol.agent.close()
      await eve.agent.close()
      await m.mediator.close()
    }
  })

  it('live mode over WebSocket: a message is delivered the moment it is queued, and removed once acknowledged', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const alice = await sender()
    try {
      const client = await useMediator(carol.agent, m.did)
      const early = await alice.send(basic('queued before live'), { to: carol.did })
      expect(early.report.confirmed).toBe(true)
      const inbox = carol.agent.messages()[Symbol.asyncIterator]()
      await client.live({ via: m.server.wsUrl, keepOpen: carol.web.keepOpen })
      expect((await inbox.next()).value?.message.body?.content).toBe('queued before live')
      await alice.send(basic('live'), { to: carol.did })
      expect((await inbox.next()).value?.message.body?.content).toBe('live')
      // acknowledged over the socket: nothing waits
      for (let i = 0; i < 200 && (await m.store.count(carol.did)).messages > 0; i++) await new Promise((r) => setTimeout(r, 10))
      expect((await m.store.count(carol.did)).messages).toBe(0)
    } finally {
      await alice.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it('pickup or keylist-update by a DID that was not granted: problem report, nothing handed out', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const mallory = await routedAgent(m.did)
    const alice = await sender()
    try {
      await useMediator(carol.agent, m.did)
      await alice.send(basic('secret'), { to: carol.did })
      const pickup = mallory.agent.request(deliveryRequest({ limit: 10 }), { to: m.did })
      await expect(pickup).rejects.toBeInstanceOf(ProblemReportError)
      await expect(pickup).rejects.toMatchObject({ problemCode: 'e.p.req.not-granted' })
      await expect(
        mallory.agent.request(recipientUpdate('2.0', [{ recipient_did: carol.did, action: 'remove' }]), { to: m.did }),
      ).rejects.toMatchObject({ problemCode: 'e.p.req.not-granted' })
      expect(await m.store.keysOf(carol.did)).toEqual([carol.did])
      expect((await m.store.count(carol.did)).messages).toBe(1)
      // granted, mallory still cannot take carol's DID
      const mc = await MediationClient.request(mallory.agent, m.did)
      expect(await mc.addRecipients([carol.did])).toEqual(['client_error'])
      expect(await m.store.clientOfKey(carol.did)).toBe(carol.did)
    } finally {
      await alice.close()
      await mallory.agent.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it('a forward for a key nobody registered: 404 with a problem report, nothing stored', async () => {
    const m = await startMediator()
    const dave = await routedAgent(m.did) // routes through the mediator but never registered
    const alice = await sender()
    try {
      const err = await alice.send(basic('to nobody'), { to: dave.did }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(HttpStatusError)
      expect((err as HttpStatusError).status).toBe(404)
      const report = JSON.parse((err as HttpStatusError).body)
      expect(report).toMatchObject({ type: PROBLEM_REPORT, body: { code: 'e.p.msg.unknown-recipient' } })
      expect(await m.store.count(dave.did)).toEqual({ messages: 0, bytes: 0 })
      expect(await m.store.clientOfKey(dave.did)).toBeNull()
    } finally {
      await alice.close()
      await dave.agent.close()
      await m.mediator.close()
    }
  })

  it('quota exceeded: problem report (507), earlier messages intact; an oversized message: 413', async () => {
    const m = await startMediator({ limits: { maxQueueMessages: 2, maxMessageBytes: 8 * 1024 } })
    const carol = await routedAgent(m.did)
    const alice = await sender()
    try {
      const client = await useMediator(carol.agent, m.did)
      await alice.send(basic('one'), { to: carol.did })
      await alice.send(basic('two'), { to: carol.did })
      const over = (await alice.send(basic('three'), { to: carol.did }).catch((e: unknown) => e)) as HttpStatusError
      expect(over.status).toBe(507)
      expect(JSON.parse(over.body).body.code).toBe('e.p.msg.quota-exceeded')
      const big = (await alice.send(basic('x'.repeat(20_000)), { to: carol.did }).catch((e: unknown) => e)) as HttpStatusError
      expect(big.status).toBe(413)
      expect(JSON.parse(big.body).body.code).toBe('e.p.msg.too-big')
      const seen: unknown[] = []
      const done = (async () => {
        for await (const { message } of carol.agent.messages()) if (seen.push(message.body?.content) === 2) return
      })()
      expect(await client.drain()).toBe(2)
      await done
      expect(seen).toEqual(['one', 'two'])
      // a refused envelope sent again once there is room is queued, not dropped as a duplicate
      const env = (
        await packEncrypted(basic('retried'), { to: carol.did, resolver: didPeerResolver, secrets: { get: async () => null } })
      ).packed
      const post = () => fetch(m.server.url, { method: 'POST', headers: { 'content-type': MEDIA_ENCRYPTED }, body: env })
      await alice.send(basic('a'), { to: carol.did })
      await alice.send(basic('b'), { to: carol.did })
      expect((await post()).status).toBe(507)
      await client.drain()
      expect((await post()).status).toBe(202)
      expect((await m.store.count(carol.did)).messages).toBe(1)
    } finally {
      await alice.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it('honours expires_time: the queued message expires with the forward', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const alice = await sender()
    try {
      await useMediator(carol.agent, m.did)
      const now = Math.floor(Date.now() / 1000)
      await alice.send({ ...basic('soon gone'), expires_time: now + 3600 }, { to: carol.did })
      const [q] = await m.store.peek(carol.did, 10)
      expect(q?.expiresAt).toBeLessThanOrEqual((now + 3600) * 1000)
      await m.store.purgeExpired((now + 3601) * 1000)
      expect((await m.store.count(carol.did)).messages).toBe(0)
      // an already expired message is refused by unpack: 400, nothing stored
      const late = (await alice
        .send(
          { ...createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message' }), expires_time: now - 10 },
          { to: carol.did },
        )
        .catch((e: unknown) => e)) as HttpStatusError
      expect([late.status, (await m.store.count(carol.did)).messages]).toEqual([400, 0])
    } finally {
      await alice.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })
})

describe('mediator: bad input at the door', () => {
  it('malformed JSON, a wrong media type, an oversized body, garbage on the WebSocket: clear errors, nothing stored, still serving', async () => {
    const { WebSocket } = await import('ws')
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    const alice = await sender()
    try {
      await useMediator(carol.agent, m.did)
      const post = (body: string, type = 'application/didcomm-encrypted+json') =>
        fetch(m.server.url, { method: 'POST', headers: { 'content-type': type }, body })
      expect((await post('{"ciphertext": "unterminated')).status).toBe(400)
      expect((await post('{}', 'application/json')).status).toBe(415)
      expect((await post(' '.repeat(2 * 1024 * 1024))).status).toBe(413)
      const ws = new WebSocket(m.server.wsUrl)
      await new Promise((r) => ws.once('open', r))
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
      ws.send('garbage, not an envelope')
      expect(await closed).toBe(1007)
      expect(await m.store.count(carol.did)).toEqual({ messages: 0, bytes: 0 })
      await alice.send(basic('after all that'), { to: carol.did })
      expect((await m.store.count(carol.did)).messages).toBe(1)
    } finally {
      await alice.close()
      await carol.agent.close()
      await m.mediator.close()
    }
  })

  it('live delivery asked over HTTP (no duplex link): e.m.live-mode-not-supported', async () => {
    const m = await startMediator()
    const carol = await routedAgent(m.did)
    try {
      await useMediator(carol.agent, m.did)
      const { liveDeliveryChange } = await import('../../src/protocols/index.js')
      await expect(carol.agent.request(liveDeliveryChange(true), { to: m.did, via: m.server.url })).rejects.toMatchObject({
        problemCode: 'e.m.live-mode-not-supported',
      })
      expect(m.mediator.liveClients()).toEqual([])
    } finally {
      await carol.agent.close()
      await m.mediator.close()
    }
  })
})
