import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderReceiver, type FolderReceiverOptions, type ReceivedFile, sendFile } from '../../adapters/fs/index.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { type Agent, type AgentPolicy, createAgent, createPeerDid, didPeerResolver } from '../../src/index.js'
import { SHARE_MEDIA } from '../../src/protocols/file-transfer.js'
import { seededBytes } from '../../src/testing/prng.js'
import { tempDir } from '../support/temp.js'

let broker: EmbeddedBroker
let dir: string
const agents: Agent[] = []
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
  dir = tempDir('carrier-sendfile-')
})
afterAll(async () => {
  for (const a of agents) await a.close()
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function agentOnMqtt(name: string, policy?: AgentPolicy, onError?: (e: unknown) => void): Promise<Agent> {
  const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
  const identity = createPeerDid({ service: { uri: endpoint } })
  const transport = await mqttEndpointTransport({ endpoint, clientId: `${name}-${process.pid}` })
  const agent = createAgent({ identity, resolver: didPeerResolver, transports: [transport], policy, onError })
  agents.push(agent)
  return agent
}

/** A receiving agent writing into `out`; collects each file as it completes. */
function receiveInto(agent: Agent, out: string, options: Partial<FolderReceiverOptions> = {}) {
  const files: ReceivedFile[] = []
  const receiver = new FolderReceiver(
    { dir: out, ...options },
    (status, to) => agent.send(status, { to }),
    (e) => {
      if (e.kind === 'file') files.push(e.file)
    },
  )
  const ready = receiver.init().then(() => receiver.attach(agent))
  agent.receive()
  return { files, receiver, ready }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('sendFile (library API) over MQTT: an encrypted blob, its ciphertext as bytes', () => {
  it('sends a stream of known size: one share, the ciphertext in chunks, the file renamed into place verified', async () => {
    const alice = await agentOnMqtt('alice-stream')
    const bob = await agentOnMqtt('bob-stream')
    const out = join(dir, 'stream')
    const { files, ready } = receiveInto(bob, out)
    await ready
    const data = seededBytes(300_000, 5)
    async function* chunks() {
      for (let o = 0; o < data.length; o += 7777) yield data.subarray(o, o + 7777)
    }
    const r = await sendFile(
      alice,
      { stream: chunks(), size: data.length, filename: 'streamed.bin' },
      { to: bob.did, partBytes: 64 * 1024, segmentBytes: 16 * 1024 },
    )
    // 300,000 bytes in 19 segments of 16 KiB, 4 segments per 64 KiB chunk
    expect(r).toMatchObject({ segments: 19, parts: 5, partsSent: 5, sha256: sha(data), resumedParts: 0 })
    expect(r.cipherBytesSent).toBe(300_000 + 19 * 16 + 5 * 37) // ciphertext and the 37-byte chunk headers
    expect(files).toHaveLength(1)
    expect(sha(readFileSync(join(out, 'streamed.bin')))).toBe(sha(data))
    // nothing left behind but the done record; the share kept with the file has no key
    expect(readdirSync(out).filter((n) => n.startsWith('.carrier-') && !n.endsWith('.done'))).toEqual([])
  })

  it('chunks are bytes, not messages: a receive quota of 3 messages lets a file of 40 chunks through', async () => {
    const refused: unknown[] = []
    const quota = { messages: 3, bytes: 64 * 1024 * 1024, intervalMs: 600_000 }
    const alice = await agentOnMqtt('alice-quota')
    const bob = await agentOnMqtt('bob-quota', { quota }, (e) => refused.push(e))
    const out = join(dir, 'quota')
    const { files, ready } = receiveInto(bob, out)
    await ready
    const path = join(dir, 'quota.bin')
    const data = seededBytes(40 * 1024, 9)
    writeFileSync(path, data)
    const r = await sendFile(alice, path, { to: bob.did, partBytes: 1040, segmentBytes: 1024 })
    expect(r).toMatchObject({ parts: 40, partsSent: 40, sha256: sha(data) })
    expect(files).toHaveLength(1)
    expect(refused).toEqual([])
  })

  it('a receiver restarted halfway resumes from the segments in its folder; the file arrives whole', async () => {
    const alice = await agentOnMqtt('alice-resume')
    const bob = await agentOnMqtt('bob-resume')
    const out = join(dir, 'resume')
    const first = receiveInto(bob, out)
    const detach = await first.ready
    const path = join(dir, 'resume.bin')
    const data = seededBytes(1_000_000, 6)
    writeFileSync(path, data)
    let second: ReturnType<typeof receiveInto> | undefined
    const sent = sendFile(alice, path, {
      to: bob.did,
      partBytes: 50_000,
      segmentBytes: 8192,
      window: 2,
      statusTimeoutMs: 300,
      onProgress: (p) => {
        if (p.ackedBytes >= data.length / 2 && !second) {
          // the receiver goes away (chunks arriving meanwhile are dropped) and a new one takes the folder
          detach()
          second = receiveInto(bob, out)
          void first.receiver.close()
        }
      },
    })
    const r = await sent
    expect(r.sha256).toBe(sha(data))
    expect(second?.files).toHaveLength(1)
    expect(second?.files[0]?.resumedParts).toBeGreaterThanOrEqual(61) // of 123 segments
    expect(first.files).toHaveLength(0)
    expect(sha(readFileSync(join(out, 'resume.bin')))).toBe(sha(data))
  })

  it('a sender stopped halfway and run again with its resumeDir sends the same blob: the receiver keeps what it has', async () => {
    const alice = await agentOnMqtt('alice-again')
    const bob = await agentOnMqtt('bob-again')
    const out = join(dir, 'again')
    const rx = receiveInto(bob, out)
    await rx.ready
    const path = join(dir, 'again.bin')
    const data = seededBytes(1_000_000, 8)
    writeFileSync(path, data)
    const resumeDir = join(dir, 'again-state')
    const o = { to: bob.did, partBytes: 50_000, segmentBytes: 8192, window: 2, statusTimeoutMs: 300, resumeDir }
    const stop = new AbortController()
    const first = sendFile(alice, path, {
      ...o,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.ackedBytes >= data.length / 2) stop.abort() // the sender "dies" halfway
      },
    })
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(readdirSync(resumeDir)).toHaveLength(1) // the key, kept until the receiver confirms
    // the shares the second run sends: one, if the receiver's statuses come under its new share's id
    // (they came under the first run's, which the second ignored: one window per status time-out)
    let shares = 0
    const send = alice.send.bind(alice)
    alice.send = (m, so) => {
      if (m.type === SHARE_MEDIA) shares++
      return send(m, so)
    }
    const r = await sendFile(alice, path, { ...o, statusTimeoutMs: 30_000 })
    expect(shares).toBe(1)
    expect(r.sha256).toBe(sha(data))
    expect(r.resumedParts).toBeGreaterThanOrEqual(10) // of 21 chunks: the half the receiver confirmed
    expect(rx.files).toHaveLength(1)
    expect(r.partsSent).toBeLessThan(r.parts) // the second run did not send the whole blob again
    expect(sha(readFileSync(join(out, 'again.bin')))).toBe(sha(data))
    expect(readdirSync(resumeDir)).toHaveLength(0)
  })

  it('a file whose bytes changed under the same name, size and time gets a fresh key, never the kept one', async () => {
    const alice = await agentOnMqtt('alice-changed')
    const bob = await agentOnMqtt('bob-changed')
    const out = join(dir, 'changed')
    const rx = receiveInto(bob, out)
    await rx.ready
    const path = join(dir, 'changed.bin')
    writeFileSync(path, seededBytes(200_000, 9))
    const when = statSync(path).mtime
    const resumeDir = join(dir, 'changed-state')
    // two chunks out at a time: the abort comes while most of the file is still unsent
    const o = { to: bob.did, partBytes: 50_000, segmentBytes: 8192, window: 2, resumeDir }
    const stop = new AbortController()
    const first = sendFile(alice, path, {
      ...o,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.ackedBytes > 0) stop.abort()
      },
    })
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    const kept = JSON.parse(readFileSync(join(resumeDir, readdirSync(resumeDir)[0] as string), 'utf8'))
    const other = seededBytes(200_000, 10)
    writeFileSync(path, other)
    utimesSync(path, when, when)
    const r = await sendFile(alice, path, o)
    expect(r.sha256).toBe(sha(other))
    expect(r.cipherSha256).not.toBe(kept.cipherSha256)
    expect(r.resumedParts).toBe(0)
    expect(sha(readFileSync(join(out, 'changed.bin')))).toBe(sha(other))
  })

  it('a transport that carries no bytes ends the send at once with ERR_NO_DIRECT_LINK, not after the idle time-out', async () => {
    const endpoint = makeMqttEndpoint(broker.url, newInboxKey())
    const mqtt = await mqttEndpointTransport({ endpoint, clientId: `alice-nobytes-${process.pid}` })
    // the same MQTT transport, declared as one that carries envelopes only (as BLE's was)
    const envelopesOnly = { ...mqtt, bytes: false }
    const alice = createAgent({
      identity: createPeerDid({ service: { uri: endpoint } }),
      resolver: didPeerResolver,
      transports: [envelopesOnly],
    })
    agents.push(alice)
    const bob = await agentOnMqtt('bob-nobytes')
    const rx = receiveInto(bob, join(dir, 'nobytes'))
    await rx.ready
    const path = join(dir, 'nobytes.bin')
    writeFileSync(path, seededBytes(100_000, 11))
    const started = Date.now()
    await expect(sendFile(alice, path, { to: bob.did, idleTimeoutMs: 60_000 })).rejects.toMatchObject({
      code: 'ERR_NO_DIRECT_LINK',
    })
    // hang detection, not speed: the idle time-out it no longer waits for is 60 s
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(rx.files).toHaveLength(0)
  })

  it('a refusal (file larger than the receiver takes) rejects with ERR_REJECTED', async () => {
    const alice = await agentOnMqtt('alice-refuse')
    const bob = await agentOnMqtt('bob-refuse')
    const { ready } = receiveInto(bob, join(dir, 'refuse'), { maxFileBytes: 1000 })
    await ready
    const path = join(dir, 'big.bin')
    writeFileSync(path, seededBytes(5000, 8))
    await expect(sendFile(alice, path, { to: bob.did })).rejects.toMatchObject({
      code: 'ERR_REJECTED',
      message: /file too large/,
    })
  })
})
