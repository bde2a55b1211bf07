import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { webEndpointTransport } from '../adapters/http/index.js'
import { createDecryptPool } from '../adapters/threads/index.js'
import { createRoutedPeerDid, useMediator } from '../src/agent/mediation.js'
import { createAgent, createMessage, didPeerResolver, MEDIA_ENCRYPTED, packEncrypted } from '../src/index.js'
import { createMediator, mediatorIdentity } from '../src/mediator/index.js'
import { type OpenStoreOptions, openStore } from '../stores/index.js'
import { havePostgres, PostgresServer } from '../test/support/postgres.js'
import { emit, median, quantile } from './lib.js'
import { liveSessionsRss } from './mediator-sessions.js'

/**
 * The mediator's figures for 1 KB messages (5,943-byte anoncrypt forwards), each against a baseline
 * measured in the same run:
 * - intake over HTTP (forwards accepted, queued in the store, answered 202) with the memory store,
 *   SQLite (synchronous FULL) and PostgreSQL, against a plain node:http server answering 202 to the
 *   same client: RUNS pairs, mediator and baseline alternated, the median of the pairs' ratios;
 * - latency from the 202 to the live delivery at a fixed offered rate (RATE msg/s over SESSIONS
 *   live WebSocket sessions, recipients in a process of their own), p50 and p99;
 * - RSS per live WebSocket session with 10,000 sessions on one instance (bench/mediator-sessions.ts).
 * MEDIATOR_BENCH_ONLY=intake|latency|sessions runs one part; MEDIATOR_BENCH_STORES=memory,sqlite,postgres.
 */
const N = Number(process.env.MEDIATOR_BENCH_N ?? 3000)
const RUNS = Number(process.env.MEDIATOR_BENCH_RUNS ?? 3)
const CONCURRENCY = Number(process.env.MEDIATOR_BENCH_CONCURRENCY ?? 32)
const RATE = Number(process.env.MEDIATOR_BENCH_RATE ?? 200)
const SESSIONS = 20
const LATENCY_SECONDS = Number(process.env.MEDIATOR_BENCH_LATENCY_SECONDS ?? 10)

/** Threads of the mediator's decryption pool (adapters/threads); 0 opens forwards on the main thread. */
const THREADS = Number(process.env.MEDIATOR_BENCH_THREADS ?? Math.max(1, availableParallelism() - 1))

export function gc(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/**
 * Posts every body once from a worker thread (bench/http-load.mjs: node:http keep-alive sockets),
 * so the server under test has this thread's core to itself; answers with msg/s (and with the
 * time of each 202 when `times`).
 */
async function postAll(
  url: string,
  bodies: string[],
  o: { rate?: number; times?: boolean; concurrency?: number } = {},
): Promise<{ rate: number; times?: number[] }> {
  const worker = new Worker(new URL('./http-load.mjs', import.meta.url), {
    workerData: {
      url,
      bodies,
      contentType: MEDIA_ENCRYPTED,
      concurrency: o.concurrency ?? CONCURRENCY,
      expect: 202,
      rate: o.rate,
      times: o.times,
    },
  })
  try {
    const [answer] = (await once(worker, 'message')) as [{ rate?: number; times?: number[]; error?: string }]
    if (answer.error !== undefined || answer.rate === undefined) throw new Error(answer.error ?? 'no rate')
    return { rate: answer.rate, times: answer.times }
  } finally {
    await worker.terminate()
  }
}

async function echoServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.on('data', () => undefined)
    req.on('end', () => res.writeHead(202).end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

/** A mediator on loopback HTTP + WS with the store at `storeUri`, and carol registered there. */
export async function benchMediator(storeUri: string, threads = THREADS, storeOptions: OpenStoreOptions = {}) {
  const store = await openStore(storeUri, storeOptions)
  const web = await webEndpointTransport({ listen: { pingIntervalMs: 600_000 } })
  const server = web.server as NonNullable<typeof web.server>
  const identity = mediatorIdentity([server.url, server.wsUrl])
  const pool = threads > 0 ? createDecryptPool({ secrets: identity.secrets, threads }) : undefined
  const mediator = createMediator({
    identity,
    store,
    resolver: didPeerResolver,
    transports: [web],
    limits: { maxQueueMessages: 1_000_000, maxQueueBytes: 1 << 30, maxDelivery: 100 },
    decrypt: pool?.decrypt,
  })
  const carolWeb = await webEndpointTransport()
  const carol = createAgent({ identity: createRoutedPeerDid(identity.did), resolver: didPeerResolver, transports: [carolWeb] })
  await useMediator(carol, identity.did)
  const close = async () => {
    await carol.close()
    await mediator.close()
    await pool?.close()
    await store.close()
  }
  return { mediator, identity, store, server, carol, close }
}

const content = 'x'.repeat(1024)

/** `n` anoncrypt forwards to `to` through its mediator, each of 1 KB of content (`body` adds fields). */
export async function forwardsTo(to: string, n: number, body: (i: number) => Record<string, unknown> = () => ({})) {
  const out: string[] = []
  for (let i = 0; i < n; i++)
    out.push(
      (
        await packEncrypted(
          createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content, ...body(i) } }),
          { to, resolver: didPeerResolver, secrets: { get: async () => null } },
        )
      ).packed,
    )
  return out
}

interface StoreCase {
  name: string
  open: () => Promise<{ uri: string; done: () => Promise<void>; options?: OpenStoreOptions }>
}

async function sqliteFile(options?: OpenStoreOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-mediator-'))
  return { uri: `sqlite:${join(dir, 'queue.db')}`, done: async () => rmSync(dir, { recursive: true, force: true }), options }
}

function storeCases(): StoreCase[] {
  const wanted = (process.env.MEDIATOR_BENCH_STORES ?? 'memory,sqlite,postgres').split(',')
  const cases: StoreCase[] = [
    { name: 'memory', open: async () => ({ uri: 'memory:', done: async () => {} }) },
    { name: 'sqlite', open: () => sqliteFile() },
    {
      name: 'postgres',
      open: async () => {
        const pg = await PostgresServer.start()
        return { uri: `${pg.url}?schema=bench${Date.now()}`, done: () => pg.stop() }
      },
    },
  ]
  return cases.filter((c) => wanted.includes(c.name) && (c.name !== 'postgres' || havePostgres()))
}

const STORE_LABEL: Record<string, string> = {
  memory: 'memory store',
  sqlite: 'SQLite, synchronous FULL (WAL)',
  postgres: 'PostgreSQL 15 (fsync on, synchronous_commit on)',
}

/** HTTP intake on each store: RUNS pairs of (plain node:http, mediator), ratio = median of the pairs'. */
async function intake(): Promise<void> {
  const echo = await echoServer()
  try {
    for (const c of storeCases()) {
      const { uri, done, options } = await c.open()
      const m = await benchMediator(uri, THREADS, options)
      try {
        const warm = await forwardsTo(m.carol.did, 200)
        await postAll(echo.url, warm)
        await postAll(m.server.url, warm) // JIT, sockets, prepared statements
        const values: number[] = []
        const bases: number[] = []
        for (let run = 0; run < RUNS; run++) {
          // fresh envelopes every run: the mediator drops nothing, but each is a new message
          const bodies = await forwardsTo(m.carol.did, N)
          bases.push((await postAll(echo.url, bodies)).rate)
          values.push((await postAll(m.server.url, bodies)).rate)
        }
        const ratios = values.map((v, i) => v / (bases[i] as number))
        emit({
          name: `mediator accepted over HTTP (queued, 202), ${STORE_LABEL[c.name]}`,
          value: median(values),
          unit: 'msg/s',
          baseline: {
            name: 'node:http server answering 202 (same client in a worker thread, same bodies)',
            value: median(bases),
          },
          ratio: median(ratios),
          params: {
            messages: N,
            runs: RUNS,
            each: values.map(Math.round),
            baselineEach: bases.map(Math.round),
            ratios: ratios.map((r) => Math.round(r * 100) / 100),
            messageBytes: 1024,
            concurrency: CONCURRENCY,
            decryptThreads: THREADS,
          },
        })
      } finally {
        await m.close()
        await done()
      }
    }
  } finally {
    await echo.close()
  }
}

/**
 * Latency from the 202 to the live delivery: RATE msg/s offered over HTTP for LATENCY_SECONDS, to
 * SESSIONS recipients live over WebSocket in a child process (bench/mediator-recipients.ts), which
 * notes when each message arrived (performance.timeOrigin + now: one clock for both processes).
 */
async function latency(): Promise<void> {
  const { uri, done } = await (storeCases().find((c) => c.name === 'sqlite') ?? (storeCases()[0] as StoreCase)).open()
  const m = await benchMediator(uri)
  const { startRecipients } = await import('./mediator-recipients.js')
  const recipients = await startRecipients(m.identity.did, SESSIONS, m.server.wsUrl)
  try {
    const total = RATE * LATENCY_SECONDS
    const bodies: string[] = []
    for (let i = 0; i < total; i++)
      bodies.push(...(await forwardsTo(recipients.dids[i % SESSIONS] as string, 1, () => ({ seq: i }))))
    await postAll(m.server.url, await forwardsTo(m.carol.did, 200)) // warm up the intake (carol is not live)
    const posted = await postAll(m.server.url, bodies, { rate: RATE, times: true, concurrency: 64 })
    const arrived = await recipients.collect(total)
    const ms = (posted.times as number[]).map((t, i) => (arrived[i] ?? Number.NaN) - t).filter(Number.isFinite)
    const lost = total - ms.length
    const params = {
      offeredRate: RATE,
      achievedRate: Math.round(posted.rate),
      messages: total,
      liveSessions: SESSIONS,
      store: uri.split(':')[0],
      delivered: ms.length,
      notDelivered: lost,
    }
    const base = { name: 'none: the time between the 202 and the delivery itself', value: 0 }
    emit({
      name: 'mediator latency from 202 to live delivery over WebSocket, p50',
      value: quantile(ms, 0.5),
      unit: 'ms',
      baseline: base,
      params,
    })
    emit({
      name: 'mediator latency from 202 to live delivery over WebSocket, p99',
      value: quantile(ms, 0.99),
      unit: 'ms',
      baseline: base,
      params,
    })
  } finally {
    await recipients.close()
    await m.close()
    await done()
  }
}

export async function mediatorBench(): Promise<void> {
  const only = process.env.MEDIATOR_BENCH_ONLY
  // sessions first: RSS grown by the other parts would be reused by the sessions and hide them
  if (!only || only === 'sessions') await liveSessionsRss()
  if (!only || only === 'intake') await intake()
  if (!only || only === 'latency') await latency()
}
