import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { decodePng, decodeQrTextWasm, encodePng, modulesToImage, textToModules } from '../../adapters/qr/index.js'
import {
  createAgent,
  createInvitation,
  createPeerDid,
  didPeerResolver,
  invitationUrl,
  parseInvitationUrl,
  receivedFiles,
} from '../../src/index.js'
import { seededBytes } from '../../src/testing/prng.js'

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
})
afterAll(async () => {
  await broker?.close()
})

async function agentOnMqtt(name: string, errors: unknown[] = []) {
  const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
  const identity = createPeerDid({ service: { uri: endpoint } })
  const transport = await mqttEndpointTransport({ endpoint, clientId: `${name}-${process.pid}` })
  return createAgent({ identity, resolver: didPeerResolver, transports: [transport], onError: (e) => errors.push(e) })
}

type Agent = Awaited<ReturnType<typeof agentOnMqtt>>

/** The invitee answers the invitation with a trust ping to its `from`; the inviter's response comes back. */
async function pingBack(inviter: Agent, invitee: Agent, inv: ReturnType<typeof parseInvitationUrl>, id: string) {
  const inviterInbox = inviter.messages()[Symbol.asyncIterator]()
  const inviteeInbox = invitee.messages()[Symbol.asyncIterator]()
  await invitee.send(
    { id, type: 'https://didcomm.org/trust-ping/2.0/ping', pthid: inv.id, body: { response_requested: true } },
    { to: inv.from as string },
  )
  const ping = (await inviterInbox.next()).value
  expect(ping?.message).toMatchObject({ pthid: inv.id, from: invitee.did })
  await inviter.send(
    { id: `${id}-response`, type: 'https://didcomm.org/trust-ping/2.0/ping-response', thid: id, body: {} },
    { to: ping?.message.from as string },
  )
  expect((await inviteeInbox.next()).value?.message).toMatchObject({ thid: id, from: inviter.did })
}

describe('agents over MQTT', () => {
  it('exchange an authcrypt message and a 1 MB file found from the DID document alone', async () => {
    const alice = await agentOnMqtt('alice')
    const bob = await agentOnMqtt('bob')
    const inbox = bob.messages()[Symbol.asyncIterator]()
    const sent = await alice.send(
      { id: 'hello-1', type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'hi bob' } },
      { to: bob.did },
    )
    expect(sent.uri).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+\/didcomm\/v2\/[\w-]{22}\/in$/)
    expect(sent.report.confirmed).toBe(true)
    const first = (await inbox.next()).value
    expect(first?.message).toMatchObject({ id: 'hello-1', from: alice.did, body: { content: 'hi bob' } })
    expect(first?.metadata).toMatchObject({ encrypted: true, authenticated: true, encryptedFrom: `${alice.did}#key-1` })

    const file = seededBytes(1024 * 1024, 5)
    const fileSent = await alice.sendFile(file, { to: bob.did, filename: 'photo.bin' })
    expect(fileSent.report.streamBytes).toBeGreaterThan(file.length) // base64 inside a JWE, then deflated
    const second = (await inbox.next()).value
    const [got] = receivedFiles(second?.message as never)
    expect(got?.filename).toBe('photo.bin')
    expect(Buffer.compare(Buffer.from(got?.bytes ?? []), Buffer.from(file))).toBe(0)
    await alice.close()
    await bob.close()
  })

  it('delivers a duplicate message id once, refuses anoncrypt where authentication is required, drops an expired message', async () => {
    const errors: unknown[] = []
    const alice = await agentOnMqtt('alice2')
    const bob = createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [] })
    // a receiving agent that requires authentication
    const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const carolId = createPeerDid({ service: { uri: endpoint } })
    const carol = createAgent({
      identity: carolId,
      resolver: didPeerResolver,
      transports: [await mqttEndpointTransport({ endpoint })],
      policy: { requireAuthenticated: true },
      onError: (e) => errors.push(e),
    })
    const got: string[] = []
    const reading = (async () => {
      for await (const m of carol.messages()) got.push(m.message.id)
    })()
    const m = { id: 'dup-1', type: 'https://example.org/t', body: {} }
    await alice.send(m, { to: carol.did })
    await alice.send(m, { to: carol.did })
    await alice.send({ id: 'anon-1', type: 'https://example.org/t', body: {} }, { to: carol.did, anonymous: true })
    await alice.send({ id: 'expired-1', type: 'https://example.org/t', expires_time: 1_000_000_000, body: {} }, { to: carol.did })
    await alice.send({ id: 'ok-2', type: 'https://example.org/t', body: {} }, { to: carol.did })
    while (got.length < 2) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 100))
    expect(got).toEqual(['dup-1', 'ok-2'])
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_DIDCOMM_POLICY', 'ERR_DIDCOMM_EXPIRED'])
    await expect(bob.send(m, { to: 'did:example:nobody' })).rejects.toMatchObject({ code: 'ERR_DIDCOMM_DID_NOT_FOUND' })
    await alice.close()
    await carol.close()
    await reading
  })
})

describe('out-of-band invitations', () => {
  it('return_route: an answer goes back to the inbox the question came from, in its thread only for "thread"', async () => {
    const alice = await agentOnMqtt('alice-rr')
    const bob = await agentOnMqtt('bob-rr')
    const atAlice = alice.messages()[Symbol.asyncIterator]()
    const atBob = bob.messages()[Symbol.asyncIterator]()
    try {
      const basic = (content: string, thid?: string) => ({
        id: `m-${content}`,
        type: 'https://didcomm.org/basicmessage/2.0/message',
        body: { content },
        ...(thid ? { thid } : {}),
      })
      await alice.send(basic('q1'), { to: bob.did, returnRoute: 'thread' })
      const q1 = (await atBob.next()).value
      expect(q1?.message.return_route).toBe('thread')
      // in the thread: over the link; outside it: by Alice's DID document
      const inThread = await bob.send(basic('a1', q1?.message.id), { to: alice.did })
      expect(inThread.uri).toBe('return_route')
      expect(inThread.packed.forwardedThrough).toEqual([])
      expect((await atAlice.next()).value?.message.body).toEqual({ content: 'a1' })
      const elsewhere = await bob.send(basic('other'), { to: alice.did })
      expect(elsewhere.uri).toMatch(/^mqtt:/)
      expect((await atAlice.next()).value?.message.body).toEqual({ content: 'other' })
    } finally {
      await alice.close()
      await bob.close()
    }
  })

  it('invitation → URL → parsed → the invitee connects back over MQTT and the inviter answers', async () => {
    const inviter = await agentOnMqtt('inviter')
    const invitee = await agentOnMqtt('invitee')
    const url = invitationUrl(
      createInvitation({ from: inviter.did, goalCode: 'connect', goal: 'say hello' }),
      'https://example.org/join',
    )
    expect(url).toMatch(/^https:\/\/example\.org\/join\?_oob=[\w-]+$/)
    const inv = parseInvitationUrl(url)
    expect(inv).toMatchObject({ from: inviter.did, body: { goal_code: 'connect' } })
    await pingBack(inviter, invitee, inv, 'hello')
    await inviter.close()
    await invitee.close()
  })

  it('invitation → one QR image → decoded from the PNG → connect over MQTT → reply', async () => {
    const inviter = await agentOnMqtt('qr-inviter')
    const invitee = await agentOnMqtt('qr-invitee')
    const url = invitationUrl(createInvitation({ from: inviter.did, goalCode: 'connect' }), 'https://example.org/join')
    const code = textToModules(url, { ecc: 'L' })
    expect(code.version).toBeLessThanOrEqual(40) // a did:peer:2 with one MQTT service fits one code
    const png = encodePng(modulesToImage(code, { scale: 4 }))
    const scanned = await decodeQrTextWasm(decodePng(png))
    expect(scanned).toBe(url)
    const inv = parseInvitationUrl(scanned as string)
    await pingBack(inviter, invitee, inv, 'qr-hello')
    await inviter.close()
    await invitee.close()
  })

  it('refuses URLs that do not carry an OOB 2.0 invitation', () => {
    expect(() => parseInvitationUrl('https://example.org/?x=1')).toThrow(/_oob/)
    expect(() => parseInvitationUrl(`https://example.org/?_oob=${Buffer.from('{"type":"x"}').toString('base64url')}`)).toThrow(
      /not an out-of-band/,
    )
    expect(() => parseInvitationUrl('not a url')).toThrow(/not a URL/)
  })
})
