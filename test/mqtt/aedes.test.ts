import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, MqttNode, MqttTransport, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { conformanceSuite } from '../../src/testing/conformance.js'
import { seededBytes } from '../../src/testing/prng.js'

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
})
afterAll(async () => {
  await broker?.close()
})

let n = 0
async function pair() {
  const id = ++n
  const alice = await MqttNode.connect(broker.url, { clientId: `alice-${id}` })
  const bob = await MqttNode.connect(broker.url, { clientId: `bob-${id}` })
  const a = await alice.openInbox(`aliceRk${id}`)
  const b = await bob.openInbox(`bobRk${id}`)
  return { alice, bob, a, b }
}

conformanceSuite(
  'MQTT over aedes (in-process, MQTT 3.1.1)',
  async () => {
    const { alice, bob, a, b } = await pair()
    return {
      a: a.link(b.rk),
      b: b.link(a.rk),
      // the client drops its connection and reconnects (aedes keeps running)
      interrupt: async () => {
        alice.client.stream.destroy()
        await new Promise((r) => setTimeout(r, 1500))
      },
      close: async () => {
        await alice.close()
        await bob.close()
      },
    }
  },
  { largeMessageBytes: 10 * 1024 * 1024 },
)

describe('MQTT over aedes', () => {
  it('speaks MQTT 3.1.1 with aedes (which has no MQTT 5)', async () => {
    const { alice, bob } = await pair()
    expect(alice.conn.protocolVersion).toBe(4)
    await alice.close()
    await bob.close()
  })

  it('an inbox receives from several peers and bare envelopes, with the sender named', async () => {
    const { alice, bob, a, b } = await pair()
    const carol = await MqttNode.connect(broker.url, { clientId: `carol-${n}` })
    const c = await carol.openInbox(`carolRk${n}`)
    const bobT = new MqttTransport(b)
    const got: { from?: string; text: string }[] = []
    const reading = (async () => {
      for await (const r of bobT.receive()) got.push({ from: r.from, text: new TextDecoder().decode(r.data) })
    })()
    const aliceT = new MqttTransport(a)
    const carolT = new MqttTransport(c)
    await aliceT.send(b.rk, '{"type":"from-alice"}')
    await carolT.send(b.rk, '{"type":"from-carol"}')
    const bareJwe =
      '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"bare","tag":"t"}'
    const bare = await carolT.send(b.rk, bareJwe, { bare: true })
    expect(bare.confirmed).toBe(false)
    while (got.length < 3) await new Promise((r) => setTimeout(r, 5))
    expect(got).toContainEqual({ from: a.rk, text: '{"type":"from-alice"}' })
    expect(got).toContainEqual({ from: c.rk, text: '{"type":"from-carol"}' })
    expect(got).toContainEqual({
      from: undefined,
      text: '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"bare","tag":"t"}',
    })
    await Promise.all([aliceT.close(), bobT.close(), carolT.close()])
    await reading
    await Promise.all([alice.close(), bob.close(), carol.close()])
  })
  it("writes packet ids without mqtt-packet's cache of 65,536 buffers (adapters/mqtt/packet-numbers.ts)", async () => {
    const { alice, bob, a, b } = await pair()
    const bobT = new MqttTransport(b)
    const aliceT = new MqttTransport(a)
    const got: string[] = []
    const reading = (async () => {
      for await (const r of bobT.receive()) got.push(new TextDecoder().decode(r.data))
    })()
    // confirmed: QoS 1 both ways, so both clients and the broker wrote packet ids
    const sent = await aliceT.send(b.rk, '{"type":"numbered"}')
    expect(sent.confirmed).toBe(true)
    while (got.length < 1) await new Promise((r) => setTimeout(r, 5))
    expect(got).toEqual(['{"type":"numbered"}'])
    const require = createRequire(import.meta.url)
    expect(require('mqtt-packet').writeToStream.cacheNumbers).toBe(false)
    expect(Object.keys(require('mqtt-packet/numbers.js').cache)).toHaveLength(0)
    await Promise.all([aliceT.close(), bobT.close()])
    await reading
    await Promise.all([alice.close(), bob.close()])
  })
  it("keeps each QoS 1 publish in mqtt.js's store without a copy of its payload, and reuses frames after their PUBACK", async () => {
    const { alice, bob, a, b } = await pair()
    // what mqtt.js stores until the PUBACK: the same payload, in a packet of its own
    const stored: { packet: { payload?: unknown }; payload: unknown }[] = []
    const store = alice.client.outgoingStore as unknown as { put(p: { payload?: unknown }, cb: () => void): unknown }
    const put = store.put.bind(store)
    store.put = (p, cb) => {
      stored.push({ packet: p, payload: p.payload })
      return put(p, cb)
    }
    const published: unknown[] = []
    alice.client.on('packetsend', (p: { cmd: string; payload?: unknown }) => {
      if (p.cmd === 'publish') published.push(p.payload)
    })
    const bobT = new MqttTransport(b)
    const aliceT = new MqttTransport(a)
    const got: Uint8Array[] = []
    const reading = (async () => {
      for await (const r of bobT.receive()) got.push(r.data.slice())
    })()
    // three messages of many full frames each, different bytes: a frame reused too early would mix them
    const messages = [1, 2, 3].map((seed) => seededBytes(600_000, seed))
    for (const m of messages) expect((await aliceT.send(b.rk, m, { compress: false })).confirmed).toBe(true)
    while (got.length < 3) await new Promise((r) => setTimeout(r, 5))
    for (const [i, g] of got.entries()) expect(Buffer.compare(g, messages[i] as Uint8Array)).toBe(0)
    expect(stored.length).toBeGreaterThan(20)
    for (const s of stored) expect(published).toContain(s.payload)
    // full frames went back to the pool and were lent again
    expect(alice.frames.size).toBeGreaterThan(0)
    const buffers = new Set(stored.map((s) => (s.payload as Uint8Array).buffer))
    expect(buffers.size).toBeLessThan(stored.length / 2)
    await Promise.all([aliceT.close(), bobT.close()])
    await reading
    await Promise.all([alice.close(), bob.close()])
  })
})
