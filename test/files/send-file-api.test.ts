import { createHash } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderReceiver, type ReceivedFile, sendFile } from '../../adapters/fs/index.js'
import {
  type EmbeddedBroker,
  makeMqttEndpoint,
  mqttEndpointTransport,
  newInboxKey,
  startEmbeddedBroker,
} from '../../adapters/mqtt/index.js'
import { type Agent, type AgentPolicy, createAgent, createPeerDid, didPeerResolver } from '../../src/index.js'
import { partMessage } from '../../src/protocols/file-transfer.js'
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

/** A receiving agent writing into `out`; resolves each file as it completes. `delayMs`: a busy receiver, before each message. */
function receiveInto(agent: Agent, out: string, onReceiver?: (r: FolderReceiver) => void, delayMs = 0) {
  const files: ReceivedFile[] = []
  const receiver = new FolderReceiver(
    { dir: out },
    (status, to) => agent.send(status, { to }),
    (e) => {
      if (e.kind === 'file') files.push(e.file)
    },
  )
  onReceiver?.(receiver)
  void (async () => {
    await receiver.init()
    for await (const { message, metadata } of agent.messages()) {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
      await receiver.handle(message, metadata).catch(() => {})
    }
  })()
  return files
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('sendFile (library API) over MQTT', () => {
  it('sends a stream of known size in parts; the last part carries the SHA-256', async () => {
    const alice = await agentOnMqtt('alice-stream')
    const bob = await agentOnMqtt('bob-stream')
    const out = join(dir, 'stream')
    const files = receiveInto(bob, out)
    const data = seededBytes(300_000, 5)
    async function* chunks() {
      for (let o = 0; o < data.length; o += 7777) yield data.subarray(o, o + 7777)
    }
    const r = await sendFile(
      alice,
      { stream: chunks(), size: data.length, filename: 'streamed.bin' },
      { to: bob.did, partBytes: 64 * 1024 },
    )
    expect(r).toMatchObject({ parts: 5, partsSent: 5, sha256: sha(data), resumedParts: 0 })
    expect(files).toHaveLength(1)
    expect(sha(readFileSync(join(out, 'streamed.bin')))).toBe(sha(data))
  })

  it('the parts of an accepted file do not count against a receive quota; other messages still do', async () => {
    let receiver: FolderReceiver | undefined
    const refused: unknown[] = []
    const quota = { messages: 3, bytes: 64 * 1024 * 1024, intervalMs: 600_000 }
    const policy: AgentPolicy = { quota, quotaExempt: (m, md) => receiver?.expects(m, md) ?? false }
    const alice = await agentOnMqtt('alice-quota')
    const bob = await agentOnMqtt('bob-quota', policy, (e) => refused.push(e))
    const out = join(dir, 'quota')
    const files = receiveInto(bob, out, (r) => (receiver = r))
    const data = seededBytes(20 * 16 * 1024, 9)
    const r = await sendFile(
      alice,
      {
        stream: (async function* () {
          yield data
        })(),
        size: data.length,
        filename: 'many.bin',
      },
      { to: bob.did, partBytes: 16 * 1024 },
    )
    // 20 parts and an offer through a quota of 3 messages: only the offer counted
    expect(r).toMatchObject({ parts: 20, partsSent: 20, sha256: sha(data) })
    expect(files).toHaveLength(1)
    expect(sha(readFileSync(join(out, 'many.bin')))).toBe(sha(data))
    expect(refused).toEqual([])
    // a part of a transfer bob never accepted is counted like any message (quota: 3, the offer used 1)
    const stray = partMessage(
      { transferId: 'never-offered-1', index: 0, count: 1, offset: 0, size: 4, bytes: seededBytes(4, 1) },
      (b) => createHash('sha256').update(b).digest(),
    )
    for (let i = 0; i < 3; i++) await alice.send({ ...stray, id: `stray-${i}` }, { to: bob.did }).catch(() => {})
    await expect.poll(() => refused.map((e) => (e as { code?: string }).code)).toContain('ERR_RECEIVE_QUOTA')
  })

  it('a sender stopped halfway and started again resumes: only the missing parts go', async () => {
    const alice = await agentOnMqtt('alice-resume')
    const bob = await agentOnMqtt('bob-resume')
    const out = join(dir, 'resume')
    const files = receiveInto(bob, out)
    const path = join(dir, 'resume.bin')
    const data = seededBytes(1_000_000, 6)
    writeFileSync(path, data)
    const stop = new AbortController()
    const first = sendFile(alice, path, {
      to: bob.did,
      partBytes: 50_000,
      window: 2,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.ackedBytes >= data.length / 2) stop.abort()
      },
    })
    await expect(first).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(files).toHaveLength(0)
    const again = await sendFile(alice, path, { to: bob.did, partBytes: 50_000, window: 2 })
    expect(again.resumedParts).toBeGreaterThanOrEqual(10)
    expect(again.partsSent).toBeLessThanOrEqual(20 - again.resumedParts + 2)
    expect(files).toHaveLength(1)
    expect(sha(readFileSync(join(out, 'resume.bin')))).toBe(sha(data))
    // the same file once more: the receiver says it is complete, nothing is sent, no second copy
    const third = await sendFile(alice, path, { to: bob.did, partBytes: 50_000 })
    expect(third.partsSent).toBe(0)
    expect(files).toHaveLength(1)
  })

  it('a busy receiver asked again answers before parts queued behind the offer: none of them is sent twice', async () => {
    const alice = await agentOnMqtt('alice-busy')
    const bob = await agentOnMqtt('bob-busy')
    const out = join(dir, 'busy')
    // one message at a time, 150 ms each, against a 100 ms status time-out: the sender asks again
    // while parts wait behind each other, and each answer leaves out the parts queued after it
    const files = receiveInto(bob, out, undefined, 150)
    const path = join(dir, 'busy.bin')
    const data = seededBytes(320_000, 8)
    writeFileSync(path, data)
    const r = await sendFile(alice, path, { to: bob.did, partBytes: 16_000, statusTimeoutMs: 100 })
    expect(r.parts).toBe(20)
    expect(r.partsSent).toBe(20)
    expect(files).toHaveLength(1)
    expect(sha(readFileSync(join(out, 'busy.bin')))).toBe(sha(data))
  })

  it('a refusal (file larger than the receiver takes) rejects with ERR_REJECTED', async () => {
    const alice = await agentOnMqtt('alice-refuse')
    const bob = await agentOnMqtt('bob-refuse')
    const out = join(dir, 'refuse')
    const receiver = new FolderReceiver({ dir: out, maxFileBytes: 1000 }, (status, to) => bob.send(status, { to }))
    void (async () => {
      await receiver.init()
      for await (const { message, metadata } of bob.messages()) await receiver.handle(message, metadata).catch(() => {})
    })()
    const path = join(dir, 'big.bin')
    writeFileSync(path, seededBytes(5000, 8))
    await expect(sendFile(alice, path, { to: bob.did })).rejects.toMatchObject({
      code: 'ERR_REJECTED',
      message: /file too large/,
    })
  })
})
