import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectMqtt, MqttNode, MqttTransport } from '../../adapters/mqtt/index.js'
import { conformanceSuite } from '../../src/testing/conformance.js'
import { seededBytes } from '../../src/testing/index.js'
import { haveMosquitto, haveOpenssl, Mosquitto, makeCertificates } from '../support/mosquitto.js'
import { runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

const ok = haveMosquitto()
let seq = 0
/**
 * Hang detection only, never a measure of speed: a time-out that should fire in 1-2 s and has not
 * settled after a minute is hung (loaded machines have stretched it to a few seconds, not tens).
 */
const HANG_MS = 60_000

/** `p`, or a rejection naming a hang when it has not settled within HANG_MS. */
async function withinHangBound<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${HANG_MS} ms: hung`)), HANG_MS)
  })
  try {
    return await Promise.race([p, hung])
  } finally {
    clearTimeout(timer)
  }
}

async function nodePair(m: Mosquitto, protocolVersion: 4 | 5) {
  const id = ++seq
  const alice = await MqttNode.connect(m.url, { clientId: `alice-${id}`, protocolVersion })
  const bob = await MqttNode.connect(m.url, { clientId: `bob-${id}`, protocolVersion })
  const a = await alice.openInbox(`aliceRk${id}`)
  const b = await bob.openInbox(`bobRk${id}`)
  return { alice, bob, a, b }
}

async function restart(m: Mosquitto, downMs = 300): Promise<void> {
  await m.kill()
  await new Promise((r) => setTimeout(r, downMs))
  await m.startProcess()
}

for (const version of [4, 5] as const) {
  describe.skipIf(!ok)(`mosquitto, MQTT ${version === 5 ? '5' : '3.1.1'}`, () => {
    let m: Mosquitto
    beforeAll(async () => {
      m = await Mosquitto.start()
    })
    afterAll(async () => {
      await m?.stop()
    })

    conformanceSuite(`MQTT over mosquitto (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
      const { alice, bob, a, b } = await nodePair(m, version)
      expect(alice.conn.protocolVersion).toBe(version)
      return {
        a: a.link(b.rk),
        b: b.link(a.rk),
        interrupt: () => restart(m),
        close: async () => {
          await alice.close()
          await bob.close()
        },
      }
    })
  })
}

describe.skipIf(!ok)('mosquitto: limits, restarts, consumer groups', () => {
  it('carries an 8 MB envelope byte-exact through a broker with max_packet_size 262144', async () => {
    const m = await Mosquitto.start({ maxPacketSize: 262144 })
    try {
      for (const version of [5, 4] as const) {
        // ask for 1 MiB frames: MQTT 5 brokers announce their limit and the frames shrink to it
        const maxFrameBytes = version === 5 ? 1024 * 1024 : undefined
        const id = ++seq
        const alice = await MqttNode.connect(m.url, { clientId: `a8-${id}`, protocolVersion: version, maxFrameBytes })
        const bob = await MqttNode.connect(m.url, { clientId: `b8-${id}`, protocolVersion: version })
        if (version === 5) expect(alice.mtu).toBeLessThanOrEqual(262144 - 512)
        const a = new MqttTransport(await alice.openInbox(`a8Rk${id}`))
        const b = new MqttTransport(await bob.openInbox(`b8Rk${id}`))
        const data = seededBytes(8 * 1024 * 1024, 8)
        const it = b.receive()[Symbol.asyncIterator]()
        const report = await a.send(b.rk, data)
        const got = await it.next()
        expect(report.confirmed).toBe(true)
        expect(Buffer.compare(Buffer.from(got.value?.data ?? []), Buffer.from(data))).toBe(0)
        await a.close()
        await b.close()
        await alice.close()
        await bob.close()
      }
    } finally {
      await m.stop()
    }
  })

  it('completes a 4 MB transfer exactly once when mosquitto is killed and restarted in the middle', async () => {
    const m = await Mosquitto.start()
    try {
      const { alice, bob, a, b } = await nodePair(m, 5)
      const at = new MqttTransport(a)
      const bt = new MqttTransport(b)
      const got: Uint8Array[] = []
      const reading = (async () => {
        for await (const r of bt.receive()) got.push(r.data)
      })()
      const data = seededBytes(4 * 1024 * 1024, 4)
      let restarted: Promise<void> | undefined
      let killedAt = 0
      let downAt = 0
      const report = await at.send(b.rk, data, {
        onProgress: (p) => {
          if (!restarted && p.sentBytes > p.totalBytes / 3 && p.sentBytes < p.totalBytes) {
            killedAt = p.sentBytes
            restarted = restart(m, 500) // SIGKILL goes out synchronously, here
            downAt = Date.now()
          }
        },
      })
      const settledAt = Date.now()
      await restarted
      await new Promise((r) => setTimeout(r, 300))
      expect(killedAt).toBeGreaterThan(0)
      expect(report.confirmed).toBe(true)
      // More than a window was still unsent at the kill, so the send had to wait for the broker to
      // come back (down ≥ 500 ms). Whether frames had to be resent depends on what was in flight.
      expect(data.length - killedAt).toBeGreaterThan(1024 * 1024)
      expect(settledAt - downAt).toBeGreaterThanOrEqual(500)
      expect(got).toHaveLength(1)
      expect(Buffer.compare(Buffer.from(got[0] as Uint8Array), Buffer.from(data))).toBe(0)
      await at.close()
      await bt.close()
      await reading
      await alice.close()
      await bob.close()
    } finally {
      await m.stop()
    }
  })

  it('two consumers share one inbox; one is killed halfway; 200 messages are each processed exactly once', async () => {
    const m = await Mosquitto.start()
    const consumers: ChildProcess[] = []
    const lines: { id?: string; consumer?: string; ready?: string }[] = []
    try {
      const inboxRk = `sharedRk${++seq}`
      for (const name of ['c1', 'c2']) {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/mqtt/fixtures/consumer.ts', m.url, inboxRk, 'workers', `${name}-${seq}`],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        )
        let buf = ''
        p.stdout?.on('data', (d) => {
          buf += d
          let i = buf.indexOf('\n')
          while (i !== -1) {
            lines.push(JSON.parse(buf.slice(0, i)))
            buf = buf.slice(i + 1)
            i = buf.indexOf('\n')
          }
        })
        consumers.push(p)
      }
      while (lines.filter((l) => l.ready).length < 2) await new Promise((r) => setTimeout(r, 20))
      const sender = await MqttNode.connect(m.url, { clientId: `sender-${seq}`, protocolVersion: 5 })
      const st = new MqttTransport(await sender.openInbox(`senderRk${seq}`), { initialRtoMs: 100 })
      let killed = ''
      for (let i = 0; i < 200; i++) {
        if (i === 100) {
          // kill the consumer that has been doing the work
          const last = lines.filter((l) => l.id).at(-1)?.consumer ?? `c1-${seq}`
          const victim = consumers[last.startsWith('c1') ? 0 : 1] as ChildProcess
          killed = last
          victim.kill('SIGKILL')
        }
        await st.send(inboxRk, JSON.stringify({ type: 'job', id: `m-${i}` }))
      }
      await new Promise((r) => setTimeout(r, 300))
      const handled = lines.filter((l) => l.id)
      const ids = handled.map((l) => l.id)
      expect(new Set(ids).size).toBe(200)
      expect(ids).toHaveLength(200)
      expect(handled.slice(100).every((l) => l.consumer !== killed)).toBe(true)
      await st.close()
      await sender.close()
    } finally {
      for (const p of consumers) p.kill('SIGKILL')
      await m.stop()
    }
  })

  it('rejects send with a typed error within its time-out when the broker is gone for good, without a reconnect loop', {
    timeout: HANG_MS + 30_000,
  }, async () => {
    const m = await Mosquitto.start()
    const { alice, bob, a, b } = await nodePair(m, 5)
    const at = new MqttTransport(a, { transferTimeoutMs: 1500 })
    await m.kill()
    const started = Date.now()
    // The behaviour, not a wall-clock: the send gives up with the typed time-out after waiting at
    // least its 1500 ms (a loaded machine only makes it later), and does not hang. HANG_MS is hang
    // detection only, far above any load seen, not a measure of speed.
    await expect(withinHangBound(at.send(b.rk, seededBytes(100_000, 1)))).rejects.toMatchObject({
      code: 'ERR_TRANSFER_TIMEOUT',
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
    await at.close()
    await alice.close()
    await bob.close()
    let reconnects = 0
    alice.client.on('reconnect', () => reconnects++)
    await new Promise((r) => setTimeout(r, 1500))
    expect(reconnects).toBe(0)
  })

  it('fails to connect with ERR_BROKER_REFUSED when the broker refuses the client', async () => {
    const m = await Mosquitto.start({ refuseAnonymous: true })
    try {
      for (const protocolVersion of [5, 4] as const) {
        await expect(connectMqtt(m.url, { protocolVersion, connectTimeoutMs: 3000 })).rejects.toMatchObject({
          code: 'ERR_BROKER_REFUSED',
        })
      }
      // and without a version, the refusal is not mistaken for "speaks no MQTT 5"
      await expect(connectMqtt(m.url, { connectTimeoutMs: 3000 })).rejects.toMatchObject({ code: 'ERR_BROKER_REFUSED' })
    } finally {
      await m.stop()
    }
  })

  it('serves several inboxes from one client, and sends MQTT 5 expiry and content type', async () => {
    const m = await Mosquitto.start()
    try {
      const node = await MqttNode.connect(m.url, { clientId: `multi-${++seq}`, protocolVersion: 5 })
      const one = new MqttTransport(await node.openInbox(`oneRk${seq}`))
      const two = new MqttTransport(await node.openInbox(`twoRk${seq}`))
      const spy = await connectMqtt(m.url, { protocolVersion: 5 })
      const props: Record<string, unknown>[] = []
      spy.client.on('message', (_t, _p, packet) => props.push({ ...packet.properties }))
      await spy.client.subscribeAsync(`didcomm/v2/twoRk${seq}/#`, { qos: 1 })
      const sender = await MqttNode.connect(m.url, { clientId: `multi-sender-${seq}`, protocolVersion: 5 })
      const st = new MqttTransport(await sender.openInbox(`senderRk${seq}`))
      const expires = Math.floor(Date.now() / 1000) + 600
      const it1 = one.receive()[Symbol.asyncIterator]()
      const it2 = two.receive()[Symbol.asyncIterator]()
      await st.send(`oneRk${seq}`, '{"type":"to-one"}')
      await st.send(`twoRk${seq}`, JSON.stringify({ id: '1', type: 'to-two', expires_time: expires }))
      await st.send(`twoRk${seq}`, '{"id":"b2","type":"bare-to-two"}', { bare: true, expiresTime: expires })
      expect(new TextDecoder().decode((await it1.next()).value?.data)).toBe('{"type":"to-one"}')
      expect(new TextDecoder().decode((await it2.next()).value?.data)).toMatch(/to-two/)
      expect(new TextDecoder().decode((await it2.next()).value?.data)).toBe('{"id":"b2","type":"bare-to-two"}')
      await new Promise((r) => setTimeout(r, 100))
      expect(props.length).toBeGreaterThanOrEqual(3)
      for (const p of props) {
        expect(p.messageExpiryInterval).toBeGreaterThan(590)
        expect(p.messageExpiryInterval).toBeLessThanOrEqual(600)
      }
      expect(props.map((p) => p.contentType)).toContain('application/vnd.didcomm-carrier.frame')
      expect(props.map((p) => p.contentType)).toContain('application/didcomm-plain+json')
      await Promise.all([one.close(), two.close(), st.close()])
      await Promise.all([node.close(), sender.close(), spy.client.endAsync()])
    } finally {
      await m.stop()
    }
  })

  it('fails to connect with a typed error when nothing listens, at once on the refusal, never hanging', {
    timeout: HANG_MS + 30_000,
  }, async () => {
    const m = await Mosquitto.start()
    const url = m.url
    await m.stop()
    // The behaviour, not a wall-clock: the typed error comes from the refused connection itself
    // (its cause is ECONNREFUSED), so the client neither waited out its time-out nor retried; and
    // it does not hang (HANG_MS: hang detection only).
    const err = await withinHangBound(connectMqtt(url, { connectTimeoutMs: 2000 })).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_BROKER_UNREACHABLE', cause: { code: 'ECONNREFUSED' } })
  })
})

describe.skipIf(!ok || !haveOpenssl())('mosquitto with TLS client certificates and a per-user ACL', () => {
  let m: Mosquitto
  let certs: Record<string, string>
  const alice = 'aliceTlsRk'
  const bob = 'bobTlsRk'
  beforeAll(async () => {
    certs = makeCertificates(tempDir('carrier-certs-'), [alice, bob])
    const acl = [
      'pattern read didcomm/v2/%u/in/#',
      'pattern read didcomm/v2/%u/at/#',
      'pattern write didcomm/v2/+/in/#',
      'pattern write didcomm/v2/+/at/#',
    ].join('\n')
    m = await Mosquitto.start({
      tls: {
        ca: certs['ca.pem'] as string,
        cert: certs['server.pem'] as string,
        key: certs['server.key'] as string,
        acl: `${acl}\n`,
      },
    })
  })
  afterAll(async () => {
    await m?.stop()
  })

  const tlsOpts = (who: string) => ({
    ca: certs['ca.pem'],
    cert: certs[`${who}.pem`],
    key: certs[`${who}.key`],
    protocolVersion: 5 as const,
  })

  it('delivers over TLS between two users, each reading only its own inbox', async () => {
    const an = await MqttNode.connect(m.tlsUrl, { clientId: 'alice-tls', ...tlsOpts(alice) })
    const bn = await MqttNode.connect(m.tlsUrl, { clientId: 'bob-tls', ...tlsOpts(bob) })
    const at = new MqttTransport(await an.openInbox(alice))
    const bt = new MqttTransport(await bn.openInbox(bob))
    const it = bt.receive()[Symbol.asyncIterator]()
    const data = seededBytes(300_000, 3)
    expect((await at.send(bob, data)).confirmed).toBe(true)
    const got = await it.next()
    expect(Buffer.compare(Buffer.from(got.value?.data ?? []), Buffer.from(data))).toBe(0)
    expect(got.value?.from).toBe(alice)
    await at.close()
    await bt.close()
    await an.close()
    await bn.close()
  })

  it("never lets a client read another recipient's inbox", async () => {
    const snoop = await MqttNode.connect(m.tlsUrl, { clientId: 'alice-snoop', ...tlsOpts(alice) })
    const bn = await MqttNode.connect(m.tlsUrl, { clientId: 'bob-tls-2', ...tlsOpts(bob) })
    const an = await MqttNode.connect(m.tlsUrl, { clientId: 'alice-tls-2', ...tlsOpts(alice) })
    const bt = new MqttTransport(await bn.openInbox(bob))
    // mosquitto 2.0 may grant the SUBSCRIBE and then withhold every message (read ACL); a broker
    // that refuses it at SUBACK time makes openInbox fail with ERR_SUBSCRIBE_REFUSED.
    const stolen: unknown[] = []
    const refused = await snoop.openInbox(bob).then(
      (inbox) => {
        inbox.onBareEnvelope((b) => stolen.push(b))
        inbox.onPeer((l) => l.onFrame((f) => stolen.push(f)))
        return false
      },
      (err: { code?: string }) => {
        expect(err.code).toBe('ERR_SUBSCRIBE_REFUSED')
        return true
      },
    )
    const at = new MqttTransport(await an.openInbox(alice))
    const it = bt.receive()[Symbol.asyncIterator]()
    await at.send(bob, '{"type":"for-bob-only"}')
    await at.send(
      bob,
      '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"bare, for bob only","tag":"t"}',
      { bare: true },
    )
    expect(new TextDecoder().decode((await it.next()).value?.data)).toBe('{"type":"for-bob-only"}')
    expect(new TextDecoder().decode((await it.next()).value?.data)).toMatch(/bare, for bob only/)
    await new Promise((r) => setTimeout(r, 300))
    expect({ refused, stolen: stolen.length }).toMatchObject({ stolen: 0 })
    await at.close()
    await bt.close()
    await Promise.all([snoop.close(), an.close(), bn.close()])
  })

  it('refuses a client certificate from another CA with a clear error', async () => {
    const err = await connectMqtt(m.tlsUrl, {
      ca: certs['ca.pem'],
      cert: certs['intruder.pem'],
      key: certs['intruder.key'],
      connectTimeoutMs: 3000,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: expect.stringMatching(/ERR_TLS|ERR_BROKER_REFUSED|ERR_BROKER_UNREACHABLE/) })
    expect(String((err as Error).message)).toMatch(/127\.0\.0\.1/)
  })

  it('refuses a server certificate it does not trust, and never falls back to plain TCP', async () => {
    const err = await connectMqtt(m.tlsUrl, {
      ca: certs['intruder.pem'],
      cert: certs[`${alice}.pem`],
      key: certs[`${alice}.key`],
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_TLS' })
    // the same broker spoken to without TLS: the TLS listener does not answer plain MQTT
    const plain = await connectMqtt(m.url, { connectTimeoutMs: 2000 }).catch((e: unknown) => e)
    expect(plain).toMatchObject({ code: expect.stringMatching(/ERR_BROKER_UNREACHABLE|ERR_BROKER_REFUSED/) })
  })
})

describe.skipIf(!ok)('carrier send / listen through mosquitto', () => {
  let m: Mosquitto
  beforeAll(async () => {
    m = await Mosquitto.start()
  })
  afterAll(async () => {
    await m?.stop()
  })

  it('a message from the real binary reaches the real listener, authcrypted', { timeout: 60_000 }, async () => {
    const dir = tempDir('carrier-mosq-cli-')
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect((await runCarrier('keys', 'new', '--out', alice, '--service', m.url)).code).toBe(0)
    const bobDid = JSON.parse((await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', m.url)).stdout).did
    const listening = startCarrier(
      '--json',
      'listen',
      '--identity',
      bob,
      '--out',
      join(dir, 'inbox'),
      '--count',
      '1',
      '--require-auth',
    )
    await new Promise((r) => setTimeout(r, 1500)) // let it subscribe
    const sent = await runCarrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', 'through mosquitto')
    expect(sent.code, sent.stderr).toBe(0)
    expect(JSON.parse(sent.stdout)).toMatchObject({ command: 'send', confirmed: true })
    expect(await listening.exited, listening.stderr()).toBe(0)
    const line = JSON.parse(await listening.line(/"event":"message"/))
    expect(line).toMatchObject({ command: 'listen', authenticated: true })
    expect(JSON.parse(readFileSync(join(dir, 'inbox', `${line.id}.json`), 'utf8')).body).toEqual({ content: 'through mosquitto' })
  })
})
