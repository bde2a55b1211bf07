import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import {
  type Agent,
  createAgent,
  createPeerDid,
  didPeerResolver,
  type IncomingEnvelope,
  type PeerIdentity,
} from '../../src/index.js'
import { mediatorIdentity } from '../../src/mediator/index.js'
import { PostgresMessageStore } from '../../stores/postgres/index.js'
import { SqliteMessageStore } from '../../stores/sqlite/index.js'
import { stopChild } from '../support/child.js'
import { freePort } from '../support/mosquitto.js'
import { havePostgres, PostgresServer } from '../support/postgres.js'
import { tempDir } from '../support/temp.js'
import { basic, mediatorProcess } from './support.js'

async function sigkill(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGKILL')
  await exited
}

/** A recipient that is offline most of the time: its DID routes through the mediator; it keeps the envelopes it accepts. */
async function recipient(identity: PeerIdentity): Promise<{ agent: Agent; accepted: Uint8Array[] }> {
  const agent = createAgent({ identity, resolver: didPeerResolver, transports: [await webEndpointTransport()] })
  const accepted: Uint8Array[] = []
  const accept = agent.accept.bind(agent)
  agent.accept = (r: IncomingEnvelope) => {
    accepted.push(typeof r.data === 'string' ? new TextEncoder().encode(r.data) : r.data.slice())
    return accept(r)
  }
  return { agent, accepted }
}

async function firstMessage(agent: Agent): Promise<string> {
  for await (const { message } of agent.messages()) return (message.body as { content: string }).content
  throw new Error('no message')
}

async function sender(): Promise<Agent> {
  return createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [await webEndpointTransport()] })
}

describe('store-and-forward across a mediator that dies (real carrier mediator processes)', () => {
  it('SQLite: queued for an offline recipient, the mediator SIGKILLed and restarted on the same file, picked up once byte-exact, then gone', async () => {
    const dir = tempDir('carrier-saf-sqlite-')
    const port = await freePort()
    const args = [
      '--http',
      `127.0.0.1:${port}`,
      '--store',
      `sqlite:${join(dir, 'queue.db')}`,
      '--identity',
      join(dir, 'mediator.json'),
    ]
    let med = await mediatorProcess(...args)
    const mediatorDid = med.did
    const bobId = createRoutedPeerDid(mediatorDid)
    const alice = await sender()
    try {
      // bob registers once, then goes offline
      const bob = await recipient(bobId)
      await useMediator(bob.agent, med.did)
      await bob.agent.close()
      // alice's send resolves once the mediator said 202: it is on disk by then
      await alice.send(basic('while the mediator died'), { to: bobId.did })
      await sigkill(med.proc)

      const store = await SqliteMessageStore.open(join(dir, 'queue.db'))
      const queued = await store.peek(bobId.did, 10)
      await store.close()
      expect(queued).toHaveLength(1)

      med = await mediatorProcess(...args)
      expect(med.did).toBe(mediatorDid) // the same DID, from its identity file
      const back = await recipient(bobId)
      try {
        const client = await useMediator(back.agent, med.did)
        expect(await client.pickup()).toBe(1)
        expect(await firstMessage(back.agent)).toBe('while the mediator died')
        // of what bob's agent took in (the mediator's answers too), exactly one is the queued envelope, byte for byte
        const stored = Buffer.from((queued[0] as { data: Uint8Array }).data)
        expect(back.accepted.filter((e) => Buffer.compare(Buffer.from(e), stored) === 0)).toHaveLength(1)
        // messages-received removed it: nothing a second time
        expect(await client.pickup()).toBe(0)
      } finally {
        await back.agent.close()
      }
      await stopChild(med.proc)
      const after = await SqliteMessageStore.open(join(dir, 'queue.db'))
      expect(await after.count(bobId.did)).toEqual({ messages: 0, bytes: 0 })
      await after.close()
    } finally {
      await alice.close()
      await stopChild(med.proc)
    }
  })

  describe.runIf(havePostgres())('PostgreSQL: two mediator instances on one queue', () => {
    let pg: PostgresServer
    beforeAll(async () => {
      pg = await PostgresServer.start()
    })
    afterAll(async () => {
      await pg?.stop()
    })

    it('a message accepted by one instance is picked up from the other, once', async () => {
      const dir = tempDir('carrier-saf-pg-')
      const [portA, portB] = [await freePort(), await freePort()]
      const store = `${pg.url}?schema=saf`
      // one mediator DID whose document names both instances (as a deployment behind two URLs would)
      const identity = join(dir, 'mediator.json')
      writeFileSync(identity, JSON.stringify(mediatorIdentity([`http://127.0.0.1:${portA}/`, `http://127.0.0.1:${portB}/`])))
      const a = await mediatorProcess('--http', `127.0.0.1:${portA}`, '--store', store, '--identity', identity)
      const b = await mediatorProcess('--http', `127.0.0.1:${portB}`, '--store', store, '--identity', identity)
      const alice = await sender()
      try {
        expect(b.did).toBe(a.did)
        const bobId = createRoutedPeerDid(a.did)
        const bob = await recipient(bobId)
        await useMediator(bob.agent, a.did, { via: `http://127.0.0.1:${portA}/` })
        await bob.agent.close()
        // the DID document names instance A: alice's forward lands there
        const sent = await alice.send(basic('accepted by A'), { to: bobId.did })
        expect(sent.uri).toBe(`http://127.0.0.1:${portA}/`)
        const shared = await PostgresMessageStore.open({ connectionString: pg.url, schema: 'saf' })
        const queued = await shared.peek(bobId.did, 10)
        await shared.close()
        expect(queued).toHaveLength(1)
        const back = await recipient(bobId)
        try {
          const viaB = await useMediator(back.agent, a.did, { via: `http://127.0.0.1:${portB}/` })
          expect(await viaB.pickup()).toBe(1)
          expect(await firstMessage(back.agent)).toBe('accepted by A')
          expect(await viaB.pickup()).toBe(0)
          const viaA = await useMediator(back.agent, a.did, { via: `http://127.0.0.1:${portA}/` })
          expect(await viaA.pickup()).toBe(0) // gone for A too: one queue
          const stored = Buffer.from((queued[0] as { data: Uint8Array }).data)
          expect(back.accepted.filter((e) => Buffer.compare(Buffer.from(e), stored) === 0)).toHaveLength(1)
        } finally {
          await back.agent.close()
        }
      } finally {
        await alice.close()
        await stopChild(a.proc)
        await stopChild(b.proc)
      }
    })
  })
})
