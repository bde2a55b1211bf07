import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type EmbeddedBroker,
  MqttNode,
  MqttTransport,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  parseMqttEndpoint,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import {
  type AgentMessage,
  type AgentPolicy,
  createAgent,
  createPeerDid,
  didPeerResolver,
  packEncrypted,
  SendFailedError,
  staticSecrets,
} from '../../src/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
})
afterAll(async () => {
  await broker?.close()
})

let agents = 0
async function agentOnMqtt(policy: AgentPolicy = {}, errors: unknown[] = []) {
  const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
  const identity = createPeerDid({ service: { uri: endpoint } })
  const transport = await mqttEndpointTransport({ endpoint, clientId: `safety-${process.pid}-${agents++}` })
  const agent = createAgent({
    identity,
    resolver: didPeerResolver,
    transports: [transport],
    policy,
    onError: (e) => errors.push(e),
  })
  return { agent, endpoint, identity }
}

const basic = (content: string) => ({
  id: crypto.randomUUID(),
  type: 'https://didcomm.org/basicmessage/2.0/message',
  body: { content },
})

/** Messages as they arrive, until `last` says stop. */
async function collect(inbox: AsyncIterator<AgentMessage>, last: (m: AgentMessage) => boolean): Promise<AgentMessage[]> {
  const got: AgentMessage[] = []
  for (;;) {
    const r = await inbox.next()
    if (r.done) return got
    got.push(r.value)
    if (last(r.value)) return got
  }
}

describe('receive quota: a flood from one sender does not shut out another (aedes)', () => {
  it('over its message quota a sender is refused with one log line, while another sender gets through', async () => {
    let clock = 1_000_000 // a fixed clock: the interval ends only when the test says so
    const errors: unknown[] = []
    const bob = await agentOnMqtt({ quota: { messages: 5, bytes: 1 << 30, intervalMs: 60_000, now: () => clock } }, errors)
    const mallory = await agentOnMqtt()
    const alice = await agentOnMqtt()
    const inbox = bob.agent.messages()[Symbol.asyncIterator]()
    try {
      for (let i = 0; i < 12; i++) await mallory.agent.send(basic(`flood ${i}`), { to: bob.agent.did })
      await alice.agent.send(basic('still heard'), { to: bob.agent.did })
      const got = await collect(inbox, (m) => m.message.from === alice.agent.did)
      expect(got.filter((m) => m.message.from === mallory.agent.did).map((m) => m.message.body?.content)).toEqual([
        'flood 0',
        'flood 1',
        'flood 2',
        'flood 3',
        'flood 4',
      ])
      expect(got.at(-1)?.message.body).toEqual({ content: 'still heard' })
      // the flooder hears why, once, in a DIDComm problem report over the link its messages came by
      const report = (await mallory.agent.messages()[Symbol.asyncIterator]().next()).value
      expect(report?.message).toMatchObject({
        type: 'https://didcomm.org/report-problem/2.0/problem-report',
        from: bob.agent.did,
        body: { code: 'e.m.req.quota' },
      })
      // one line for the whole flood, naming the sender and the quota
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ code: 'ERR_RECEIVE_QUOTA', sender: mallory.agent.did })
      expect(String((errors[0] as Error).message)).toContain(
        `refusing messages from ${mallory.agent.did}: over its receive quota of 5 messages per 60 s`,
      )

      clock += 60_000 // the next interval: mallory is heard again, and the next refusal counts the last
      for (let i = 0; i < 6; i++) await mallory.agent.send(basic(`later ${i}`), { to: bob.agent.did })
      await alice.agent.send(basic('again'), { to: bob.agent.did })
      const later = await collect(inbox, (m) => m.message.from === alice.agent.did)
      expect(later.filter((m) => m.message.from === mallory.agent.did)).toHaveLength(5)
      expect(errors).toHaveLength(2)
      expect(String((errors[1] as Error).message)).toContain('7 refused in its previous one')
    } finally {
      await Promise.all([bob.agent.close(), mallory.agent.close(), alice.agent.close()])
    }
  })

  it('over its byte quota a sender is refused; its small messages within the quota were kept', async () => {
    const errors: unknown[] = []
    const bob = await agentOnMqtt({ quota: { messages: 100, bytes: 400_000, intervalMs: 60_000, now: () => 0 } }, errors)
    const mallory = await agentOnMqtt()
    const alice = await agentOnMqtt()
    const inbox = bob.agent.messages()[Symbol.asyncIterator]()
    try {
      // each 100 KB file is a ~135 KB envelope (base64 inside the JWE): two fit in 400 KB, the third does not
      for (let i = 0; i < 4; i++) await mallory.agent.sendFile(seededBytes(100_000, i), { to: bob.agent.did, filename: `f${i}` })
      await alice.agent.sendFile(seededBytes(100_000, 9), { to: bob.agent.did, filename: 'alice' })
      const got = await collect(inbox, (m) => m.message.from === alice.agent.did)
      expect(got.filter((m) => m.message.from === mallory.agent.did).map((m) => m.message.attachments?.[0]?.filename)).toEqual([
        'f0',
        'f1',
      ])
      expect(errors).toHaveLength(1)
      expect(String((errors[0] as Error).message)).toContain('over its receive quota of 400000 bytes per 60 s')
    } finally {
      await Promise.all([bob.agent.close(), mallory.agent.close(), alice.agent.close()])
    }
  })
})

describe('one bad message is refused and the receiver serves the next', () => {
  it('garbage, an envelope for someone else and a plaintext are refused; the good message after them arrives', async () => {
    const errors: unknown[] = []
    const bob = await agentOnMqtt({}, errors)
    const alice = await agentOnMqtt()
    const inbox = bob.agent.messages()[Symbol.asyncIterator]()
    const node = await MqttNode.connect(broker.url)
    const raw = new MqttTransport(await node.openInbox(newInboxKey()))
    try {
      const rk = parseMqttEndpoint(bob.endpoint).rk
      const carol = createPeerDid()
      const forCarol = await packEncrypted(basic('not for bob'), {
        to: carol.did,
        resolver: didPeerResolver,
        secrets: staticSecrets([]),
      })
      // shaped like a JWE (the wire drops what is not), but nobody can open it
      await raw.send(
        rk,
        '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"garbage","tag":"t"}',
        { bare: true },
      )
      await raw.send(rk, forCarol.packed)
      await raw.send(rk, JSON.stringify({ ...basic('plaintext'), typ: 'application/didcomm-plain+json' }), { bare: true })
      await alice.agent.send(basic('the good one'), { to: bob.agent.did })
      const got = await collect(inbox, () => true)
      expect(got[0]?.message.body).toEqual({ content: 'the good one' })
      expect(errors.length).toBe(3)
      for (const e of errors) expect((e as { code?: string }).code).toMatch(/^ERR_/)
    } finally {
      await raw.close()
      await node.close()
      await Promise.all([bob.agent.close(), alice.agent.close()])
    }
  })
})

describe('carrier listen keeps serving (real CLI processes, aedes)', () => {
  it('refuses a garbage envelope and a flooding sender with a log line each, and still takes the other sender', async () => {
    const dir = tempDir('carrier-listen-safety-')
    const [bob, mallory, alice] = ['bob', 'mallory', 'alice'].map((n) => join(dir, `${n}.json`)) as [string, string, string]
    for (const f of [bob, mallory, alice])
      expect((await runCarrier('keys', 'new', '--out', f, '--service', broker.url)).code).toBe(0)
    const bobId = JSON.parse(readFileSync(bob, 'utf8')) as {
      did: string
      document: { service: { serviceEndpoint: { uri: string } }[] }
    }
    const rk = parseMqttEndpoint(bobId.document.service[0]?.serviceEndpoint.uri as string).rk
    const listen = startCarrier('listen', '--identity', bob, '--out', join(dir, 'in'), '--count', '3', '--quota-messages', '2')
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (!listen.stderr().includes('listening as')) return
          clearInterval(t)
          resolve()
        }, 20)
        void listen.exited.then(() => reject(new Error(listen.stderr())))
      })
      writeFileSync(
        join(dir, 'garbage.json'),
        '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"garbage","tag":"t"}',
      )
      expect(
        (await runCarrier('mqtt', 'send', '--broker', broker.url, '--to', rk, '--bare', join(dir, 'garbage.json'))).code,
      ).toBe(0)
      for (const text of ['m1', 'm2', 'm3'])
        expect((await runCarrier('send', '--identity', mallory, '--to', bobId.did, '--text', text)).code).toBe(0)
      expect((await runCarrier('send', '--identity', alice, '--to', bobId.did, '--text', 'from alice')).code).toBe(0)
      expect(await listen.exited).toBe(0)
      const malloryDid = (JSON.parse(readFileSync(mallory, 'utf8')) as { did: string }).did
      const aliceDid = (JSON.parse(readFileSync(alice, 'utf8')) as { did: string }).did
      const senders = listen
        .stdout()
        .trim()
        .split('\n')
        .map((l) => / from (\S+)$/.exec(l)?.[1])
      expect(senders).toEqual([malloryDid, malloryDid, aliceDid])
      const refusals = listen
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('carrier listen: refused'))
      expect(refusals).toHaveLength(2)
      expect(refusals[0]).toMatch(/^carrier listen: refused a message: ERR_/)
      expect(refusals[1]).toContain(
        `ERR_RECEIVE_QUOTA: refusing messages from ${malloryDid}: over its receive quota of 2 messages per 60 s`,
      )
    } finally {
      listen.kill()
    }
  })
})

describe('an offline recipient', () => {
  it('a send that times out names the recipient DID and the endpoint tried, and keeps the typed code', async () => {
    const bob = await agentOnMqtt()
    const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const identity = createPeerDid({ service: { uri: endpoint } })
    const transport = await mqttEndpointTransport({
      endpoint,
      clientId: `safety-offline-${process.pid}`,
      transport: { transferTimeoutMs: 1500 },
    })
    const alice = createAgent({ identity, resolver: didPeerResolver, transports: [transport] })
    await bob.agent.close() // bob is offline: nobody acknowledges at his inbox
    try {
      const err = await alice.send(basic('anyone?'), { to: bob.agent.did }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(SendFailedError)
      expect(err).toMatchObject({ code: 'ERR_TRANSFER_TIMEOUT', to: bob.agent.did, tried: [bob.endpoint] })
      expect((err as Error).message).toContain(`${bob.agent.did} did not take the message at ${bob.endpoint}: `)
      expect((err as Error).cause).toMatchObject({ code: 'ERR_TRANSFER_TIMEOUT' })
    } finally {
      await alice.close()
    }
  })
})
