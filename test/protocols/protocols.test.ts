import { describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createAgent, createMessage, createPeerDid, didPeerResolver, MEDIA_PLAIN, packPlaintext } from '../../src/index.js'
import {
  DISCOVER_DISCLOSE,
  delivery,
  disclosedFeatures,
  discoverQueries,
  envelopesOf,
  FORWARD_TYPE,
  forwardOf,
  mediateGrant,
  mediateRequest,
  PROBLEM_REPORT,
  parseCmType,
  problemOf,
  recipientList,
  recipientQuery,
  recipientsOf,
  recipientUpdate,
  recipientUpdateResponse,
  routingDidOf,
  TRUST_PING_RESPONSE,
  trustPing,
  updatesOf,
} from '../../src/protocols/index.js'

describe('coordinate-mediation shapes', () => {
  it('2.0 grants routing_did as a string (Identus), 3.0 as an array (Veramo); both read back', () => {
    const g2 = mediateGrant(mediateRequest('2.0'), 'did:peer:2.mediator')
    const g3 = mediateGrant(mediateRequest('3.0'), 'did:peer:2.mediator')
    expect(g2.type).toBe('https://didcomm.org/coordinate-mediation/2.0/mediate-grant')
    expect(g2.body?.routing_did).toBe('did:peer:2.mediator')
    expect(g3.body?.routing_did).toEqual(['did:peer:2.mediator'])
    expect([routingDidOf(g2), routingDidOf(g3)]).toEqual(['did:peer:2.mediator', 'did:peer:2.mediator'])
  })

  it('2.0 says keylist-*, 3.0 recipient-*; updates are checked', () => {
    const u2 = recipientUpdate('2.0', [{ recipient_did: 'did:a', action: 'add' }])
    const u3 = recipientUpdate('3.0', [{ recipient_did: 'did:a', action: 'remove' }])
    expect(parseCmType(u2.type)).toEqual({ version: '2.0', kind: 'update' })
    expect(u3.type).toBe('https://didcomm.org/coordinate-mediation/3.0/recipient-update')
    expect(updatesOf(u3)).toEqual([{ recipient_did: 'did:a', action: 'remove' }])
    const r3 = recipientUpdateResponse(u3, [{ recipient_did: 'did:a', action: 'remove', result: 'success' }])
    expect(r3.type).toMatch(/recipient-update-response$/)
    expect(r3.body?.updated).toEqual(r3.body?.updates)
    expect(() =>
      updatesOf(createMessage({ type: u2.type, body: { updates: [{ recipient_did: 'did:a', action: 'steal' }] } })),
    ).toThrow(/action add\|remove/)
    expect(recipientsOf(recipientList(recipientQuery('2.0'), ['did:a']))).toEqual(['did:a'])
    expect(recipientList(recipientQuery('3.0'), ['did:a']).body).toEqual({ dids: [{ recipient_did: 'did:a' }] })
    expect(parseCmType('https://didcomm.org/coordinate-mediation/4.0/mediate-request')).toBeNull()
  })
})

describe('pickup and routing', () => {
  it('delivery attachments are {id, data:{json}}; json, json strings, base64 and base64url all read back', () => {
    const env = JSON.stringify({ protected: 'p', ciphertext: 'c' })
    const d = delivery([{ id: 'm1', envelope: env }])
    expect(d.attachments?.[0]).toMatchObject({ id: 'm1', data: { json: { protected: 'p', ciphertext: 'c' } } })
    const b64 = Buffer.from(env).toString('base64')
    const b64url = Buffer.from(env).toString('base64url')
    const m = {
      ...d,
      attachments: [
        ...(d.attachments ?? []),
        { id: 'm2', data: { base64: b64 } },
        { id: 'm3', data: { base64: b64url } },
        { id: 'm4', data: { json: env } },
      ],
    }
    expect(envelopesOf(m).map((e) => [e.id, JSON.parse(e.envelope)])).toEqual(
      ['m1', 'm2', 'm3', 'm4'].map((id) => [id, { protected: 'p', ciphertext: 'c' }]),
    )
  })

  it('a forward whose attachment is the envelope as a JSON string (Identus) reads as that envelope', () => {
    const env = '{"ciphertext":"c"}'
    const f = { id: '1', type: FORWARD_TYPE, body: { next: 'did:x' }, attachments: [{ data: { json: env } }], expires_time: 9 }
    expect(forwardOf(f)).toEqual({ next: 'did:x', envelope: env, expiresTime: 9 })
    expect(() => forwardOf({ ...f, body: {} })).toThrow(/without next/)
  })
})

describe('protocols every agent answers', () => {
  it('trust ping is answered by itself; discover-features discloses protocols and transports', async () => {
    const t = await webEndpointTransport({ listen: {} })
    const bob = createAgent({
      identity: createPeerDid({ service: { uri: t.server?.url as string } }),
      resolver: didPeerResolver,
      transports: [t],
    })
    bob.receive()
    const alice = createAgent({
      identity: createPeerDid(),
      resolver: didPeerResolver,
      transports: [await webEndpointTransport()],
    })
    try {
      const pong = await alice.request(trustPing(), { to: bob.did })
      expect(pong.message.type).toBe(TRUST_PING_RESPONSE)
      const disclose = await alice.request(
        discoverQueries([
          { 'feature-type': 'protocol', match: 'https://didcomm.org/trust-ping/*' },
          { 'feature-type': 'transport', match: '*' },
        ]),
        { to: bob.did },
      )
      expect(disclose.message.type).toBe(DISCOVER_DISCLOSE)
      expect(disclosedFeatures(disclose.message).map((f) => f.id)).toEqual([
        'https://didcomm.org/trust-ping/2.0',
        'http',
        'https',
        'ws',
        'wss',
      ])
    } finally {
      await alice.close()
      await bob.close()
    }
  })

  it('a message refused by policy gets a problem report (HTTP 403 with the report), and never reaches the app', async () => {
    const t = await webEndpointTransport({ listen: {} })
    const bob = createAgent({
      identity: createPeerDid({ service: { uri: t.server?.url as string } }),
      resolver: didPeerResolver,
      transports: [t],
    })
    const seen: string[] = []
    void (async () => {
      for await (const { message } of bob.messages()) seen.push(message.type)
    })()
    try {
      const plain = packPlaintext(
        createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', from: 'did:x', body: {} }),
      )
      const res = await fetch(t.server?.url as string, { method: 'POST', headers: { 'content-type': MEDIA_PLAIN }, body: plain })
      expect(res.status).toBe(403)
      const report = JSON.parse(await res.text())
      expect(report.type).toBe(PROBLEM_REPORT)
      expect(problemOf(report)).toEqual({ code: 'e.m.policy', comment: 'plaintext message refused: encryption required' })
      expect(seen).toEqual([])
    } finally {
      await bob.close()
    }
  })
})
