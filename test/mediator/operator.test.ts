import type { ChildProcess } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { type Agent, createAgent, createPeerDid, didPeerResolver, type PeerIdentity } from '../../src/index.js'
import { freePort } from '../support/mosquitto.js'
import { havePostgres, PostgresServer } from '../support/postgres.js'
import { parsePrometheus, sample } from '../support/prometheus.js'
import { tempDir } from '../support/temp.js'
import { basic, mediatorProcess, runCarrier as run } from './support.js'

/** SIGTERM and the exit code. */
async function sigterm(proc: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  proc.kill('SIGTERM')
  return exited
}

async function sender(): Promise<Agent> {
  return createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [await webEndpointTransport()] })
}

/** A recipient agent whose message contents are collected as they are picked up. */
async function recipient(identity: PeerIdentity) {
  const agent = createAgent({ identity, resolver: didPeerResolver, transports: [await webEndpointTransport()] })
  const contents: string[] = []
  void (async () => {
    for await (const { message } of agent.messages()) contents.push((message.body as { content: string }).content)
  })()
  return { agent, contents }
}

describe('a mediator operators can run: identity with the store, metrics, SIGTERM', () => {
  it('SQLite: restarted with the same flags and no --identity it keeps its DID; other endpoints are refused naming --rotate-identity', async () => {
    const dir = tempDir('carrier-medid-')
    const port = await freePort()
    const db = join(dir, 'queue.db')
    const args = ['--http', `127.0.0.1:${port}`, '--ws', '--store', `sqlite:${db}`, '--threads', '0']
    let med = await mediatorProcess(...args)
    const did = med.did
    expect(await sigterm(med.proc)).toBe(0)
    expect(statSync(db).mode & 0o777).toBe(0o600) // it holds the mediator's private keys
    med = await mediatorProcess(...args)
    expect(med.did).toBe(did)
    expect(await sigterm(med.proc)).toBe(0)

    // --ws dropped, another public URL: refused, never silently served under the old DID
    for (const other of [
      ['--http', `127.0.0.1:${port}`, '--store', `sqlite:${db}`],
      [...args, '--public-url', 'https://mediator.example/'],
    ]) {
      const r = await run('mediator', ...other)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^carrier: ERR_IDENTITY_ENDPOINTS: .*--rotate-identity/)
      expect(r.stderr).toContain(`ws://127.0.0.1:${port}/`)
    }
    // rotated on purpose: a new DID, kept from then on
    const rotated = [...args, '--public-url', 'https://mediator.example/', '--rotate-identity']
    med = await mediatorProcess(...rotated)
    const newDid = med.did
    expect(newDid).not.toBe(did)
    expect(await sigterm(med.proc)).toBe(0)
    med = await mediatorProcess(...args, '--public-url', 'https://mediator.example/')
    expect(med.did).toBe(newDid)
    expect(await sigterm(med.proc)).toBe(0)
  }, 240_000) // eight process starts of ~5-10 s each on a shared 2-core machine

  it('--identity FILE: --ws added or removed after the file was made is refused, not ignored', async () => {
    const dir = tempDir('carrier-medid-file-')
    const port = await freePort()
    const file = join(dir, 'mediator.json')
    const plain = ['--http', `127.0.0.1:${port}`, '--identity', file, '--threads', '0']
    const med = await mediatorProcess(...plain)
    expect(await sigterm(med.proc)).toBe(0)
    const r = await run('mediator', ...plain, '--ws')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/ERR_IDENTITY_ENDPOINTS: the mediator DID kept in the identity file .*--rotate-identity/)
    const again = await mediatorProcess(...plain)
    expect(again.did).toBe(med.did)
    expect(await sigterm(again.proc)).toBe(0)
  })

  describe.runIf(havePostgres())('PostgreSQL', () => {
    let pg: PostgresServer
    beforeAll(async () => {
      pg = await PostgresServer.start()
    })
    afterAll(async () => {
      await pg?.stop()
    })

    it('two instances started at once on one database serve one DID, and keep it across restarts', async () => {
      const store = `${pg.url}?schema=medid`
      const [portA, portB] = [await freePort(), await freePort()]
      // behind one URL (a balancer): both publish it
      const shared = ['--store', store, '--public-url', 'http://127.0.0.1:1/', '--threads', '0']
      const [a, b] = await Promise.all([
        mediatorProcess('--http', `127.0.0.1:${portA}`, ...shared),
        mediatorProcess('--http', `127.0.0.1:${portB}`, ...shared),
      ])
      try {
        expect(b.did).toBe(a.did)
        expect(await sigterm(b.proc)).toBe(0)
        const b2 = await mediatorProcess('--http', `127.0.0.1:${portB}`, ...shared)
        expect(b2.did).toBe(a.did)
        expect(await sigterm(b2.proc)).toBe(0)
      } finally {
        await sigterm(a.proc)
      }
    })
  })

  it('/healthz, /readyz and /metrics: the scraped text, parsed, counts what the test sent', async () => {
    const dir = tempDir('carrier-medid-metrics-')
    const port = await freePort()
    const base = `http://127.0.0.1:${port}/`
    const med = await mediatorProcess('--http', `127.0.0.1:${port}`, '--store', `sqlite:${join(dir, 'q.db')}`, '--threads', '0')
    const alice = await sender()
    const bobId = createRoutedPeerDid(med.did)
    const bob = await recipient(bobId)
    try {
      expect((await fetch(`${base}healthz`)).status).toBe(200)
      expect((await fetch(`${base}readyz`)).status).toBe(200)
      const client = await useMediator(bob.agent, med.did)
      const N = 20
      for (let i = 0; i < N; i++) await alice.send(basic(`m${i}`), { to: bobId.did })
      // refused: 3 of another media type, 2 forwards for a recipient nobody registered here
      for (let i = 0; i < 3; i++)
        expect((await fetch(base, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' })).status).toBe(415)
      const stranger = createRoutedPeerDid(med.did)
      for (let i = 0; i < 2; i++) await expect(alice.send(basic('nobody'), { to: stranger.did })).rejects.toThrow()

      let m = parsePrometheus(await (await fetch(`${base}metrics`)).text())
      expect(sample(m, 'carrier_mediator_accepted_total')).toBe(N)
      expect(sample(m, 'carrier_mediator_refused_total', { reason: 'ERR_MEDIA_TYPE', transport: 'http' })).toBe(3)
      expect(sample(m, 'carrier_mediator_refused_total', { reason: 'ERR_UNKNOWN_RECIPIENT', transport: 'http' })).toBe(2)
      expect(sample(m, 'carrier_mediator_queue_messages')).toBe(N)
      expect(sample(m, 'carrier_mediator_intake_seconds')).toBe(N)
      expect(sample(m, 'carrier_mediator_delivered_total')).toBe(0)
      expect(sample(m, 'carrier_mediator_live_sessions')).toBe(0)
      expect(sample(m, 'carrier_mediator_store_errors_total')).toBeUndefined() // no label set seen: none

      let picked = 0
      for (let n = await client.pickup(); n > 0; n = await client.pickup()) picked += n
      expect(picked).toBe(N)
      m = parsePrometheus(await (await fetch(`${base}metrics`)).text())
      expect(sample(m, 'carrier_mediator_delivered_total')).toBe(N)
      expect(sample(m, 'carrier_mediator_delivery_seconds')).toBe(N)
      expect(sample(m, 'carrier_mediator_queue_messages')).toBe(0)
      const hist = m.find((f) => f.name === 'carrier_mediator_delivery_seconds')
      expect(hist?.type).toBe('HISTOGRAM')
      expect(Number(hist?.metrics[0]?.buckets?.['+Inf'])).toBe(N)
    } finally {
      await bob.agent.close()
      await alice.close()
      expect(await sigterm(med.proc)).toBe(0)
    }
  })

  it('SIGTERM under load: it exits 0 and every message answered 202 is picked up after a restart on the same SQLite file', async () => {
    const dir = tempDir('carrier-medid-term-')
    const port = await freePort()
    const args = ['--http', `127.0.0.1:${port}`, '--store', `sqlite:${join(dir, 'q.db')}`, '--threads', '0']
    const med = await mediatorProcess(...args)
    const bobId = createRoutedPeerDid(med.did)
    const reg = await recipient(bobId)
    await useMediator(reg.agent, med.did)
    await reg.agent.close()
    const alice = await sender()
    const accepted: string[] = []
    let refused = 0
    let stop = false
    let termed: Promise<number | null> | undefined
    const exited = new Promise<void>((r) => med.proc.once('exit', () => r()))
    let seq = 0
    // 8 posts in flight at a time; SIGTERM once 150 were answered 202; posting goes on until the process is gone
    const worker = async () => {
      while (!stop) {
        const text = `m${seq++}`
        try {
          await alice.send(basic(text), { to: bobId.did })
          accepted.push(text)
          if (accepted.length === 150) termed = new Promise((r) => med.proc.once('exit', (code) => r(code)))
          if (accepted.length === 150) med.proc.kill('SIGTERM')
        } catch {
          refused++
          if (med.proc.exitCode !== null) stop = true
        }
      }
    }
    const workers = Array.from({ length: 8 }, worker)
    await exited
    stop = true
    await Promise.all(workers)
    expect(await termed).toBe(0)
    expect(accepted.length).toBeGreaterThanOrEqual(150)
    expect(refused).toBeGreaterThan(0) // posts after the SIGTERM were turned away (503, then connection refused)

    const back = await mediatorProcess(...args)
    expect(back.did).toBe(med.did)
    const bob = await recipient(bobId)
    try {
      const client = await useMediator(bob.agent, back.did)
      while ((await client.pickup()) > 0) {}
      await new Promise((r) => setTimeout(r, 100))
      expect(new Set(bob.contents)).toEqual(new Set(accepted))
    } finally {
      await bob.agent.close()
      await alice.close()
      expect(await sigterm(back.proc)).toBe(0)
    }
  })
})
