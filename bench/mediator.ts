import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'
import { WebSocket } from 'ws'
import { webEndpointTransport } from '../adapters/http/index.js'
import { createDecryptPool } from '../adapters/threads/index.js'
import { createRoutedPeerDid, useMediator } from '../src/agent/mediation.js'
import { createAgent, createMessage, didPeerResolver, MEDIA_ENCRYPTED, packEncrypted } from '../src/index.js'
import { createMediator, mediatorIdentity } from '../src/mediator/index.js'
import { openStore } from '../stores/index.js'
import { emit } from './lib.js'

/**
 * The mediator's throughput for 1 KB messages: forwards accepted (queued in the store) over HTTP
 * and over WebSocket, and delivered (pickup over HTTP; live over WebSocket), each compared in the
 * same run with a plain node:http server that reads the body and answers 202; and the heap after
 * 10,000 queued messages, with the memory store and with SQLite (the queue in a file).
 * MEDIATOR_BENCH_STORE picks the store of the throughput runs (default memory:).
 */
const N = Number(process.env.MEDIATOR_BENCH_N ?? 2000)
const CONCURRENCY = 32

/** The JS heap plus the array buffers it owns (a queued envelope's bytes live there, off heapUsed). */
function heapBytes(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

function gc(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/**
 * Posts every body once from a worker thread (bench/http-load.mjs: node:http keep-alive sockets),
 * so the server under test has this thread's core to itself; answers with msg/s.
 */
async function postAll(url: string, bodies: string[]): Promise<number> {
  const worker = new Worker(new URL('./http-load.mjs', import.meta.url), {
    workerData: { url, bodies, contentType: MEDIA_ENCRYPTED, concurrency: CONCURRENCY, expect: 202 },
  })
  try {
    const [answer] = (await once(worker, 'message')) as [{ rate?: number; error?: string }]
    if (answer.error !== undefined || answer.rate === undefined) throw new Error(answer.error ?? 'no rate')
    return answer.rate
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

async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 5))
}

/** A mediator on loopback HTTP + WS with the store at `storeUri`, and carol registered there. */
async function benchMediator(storeUri: string, threads = 0) {
  const store = await openStore(storeUri)
  const web = await webEndpointTransport({ listen: {} })
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
  const closeMediator = async () => {
    await mediator.close()
    await pool?.close()
  }
  const carolWeb = await webEndpointTransport()
  const carol = createAgent({ identity: createRoutedPeerDid(identity.did), resolver: didPeerResolver, transports: [carolWeb] })
  const client = await useMediator(carol, identity.did)
  const content = 'x'.repeat(1024)
  const forwards = async (n: number) =>
    Promise.all(
      Array.from(
        { length: n },
        async () =>
          (
            await packEncrypted(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content } }), {
              to: carol.did,
              resolver: didPeerResolver,
              secrets: { get: async () => null },
            })
          ).packed,
      ),
    )
  return { mediator: { close: closeMediator }, store, server, carol, carolWeb, client, forwards }
}

/** How long the live step waits for the last live delivery before it reports a stall. */
const LIVE_DEADLINE_MS = 120_000

/** Threads of the mediator's decryption pool (adapters/threads); 0 opens forwards on the main thread. */
const THREADS = Number(process.env.MEDIATOR_BENCH_THREADS ?? Math.max(1, availableParallelism() - 1))

export async function mediatorBench(): Promise<void> {
  const storeUri = process.env.MEDIATOR_BENCH_STORE ?? 'memory:'
  const { mediator, store, server, carol, carolWeb, client, forwards } = await benchMediator(storeUri, THREADS)
  // fresh envelopes for every run: the mediator drops a forward id it has seen (duplicates)
  const bodies = await forwards(N)
  const wsBodies = await forwards(N)
  const liveBodies = await forwards(N)
  const params = {
    messages: N,
    messageBytes: 1024,
    envelopeBytes: bodies[0]?.length,
    concurrency: CONCURRENCY,
    store: storeUri,
    decryptThreads: THREADS,
  }
  const echo = await echoServer()
  let base = { name: '', value: 0 }
  try {
    await postAll(echo.url, bodies.slice(0, 200)) // warm the client up
    const baseline = await postAll(echo.url, bodies)
    base = { name: 'node:http server answering 202 (same client in a worker thread, same bodies)', value: baseline }

    const httpAccepted = await postAll(server.url, bodies)
    emit({ name: 'mediator accepted over HTTP (queued, 202)', value: httpAccepted, unit: 'msg/s', baseline: base, params })

    let start = performance.now()
    let picked = 0
    while (picked < N) picked += await client.pickup({ limit: 100 })
    emit({
      name: 'mediator delivered by polling pickup over HTTP (delivery-request + messages-received, 100 per round)',
      value: N / ((performance.now() - start) / 1000),
      unit: 'msg/s',
      baseline: base,
      params,
    })

    const ws = new WebSocket(server.wsUrl)
    await new Promise((r) => ws.once('open', r))
    start = performance.now()
    for (const b of wsBodies) ws.send(b)
    await until(async () => (await store.count(carol.did)).messages >= N)
    emit({
      name: 'mediator accepted over WebSocket (queued)',
      value: N / ((performance.now() - start) / 1000),
      unit: 'msg/s',
      baseline: base,
      params,
    })
    ws.close()
    await client.drain({ limit: 100 })

    let got = 0
    const counting = (async () => {
      for await (const _ of carol.messages()) if (++got >= N) return
    })()
    await client.live({ via: server.wsUrl, keepOpen: carolWeb.keepOpen })
    start = performance.now()
    await postAll(server.url, liveBodies)
    // seen stalling (a live session that stops delivering while messages wait in the store): a figure
    // with what arrived, never a bench that hangs; what did not arrive live is picked up by polling
    const settled = await Promise.race([
      counting.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), LIVE_DEADLINE_MS)),
    ])
    const seconds = (performance.now() - start) / 1000
    emit({
      name: 'mediator accepted over HTTP and delivered live over WebSocket (end to end)',
      value: settled ? N / seconds : got / seconds,
      unit: 'msg/s',
      baseline: base,
      params: { ...params, ...(settled ? {} : { stalled: true, deliveredLive: got, waitedMs: LIVE_DEADLINE_MS }) },
    })
    await client.stop()
    // what did not arrive live, and what arrived but whose messages-received was cut off by stop()
    // (the agent drops those as duplicates), is picked up by polling: the store ends empty
    await client.drain({ limit: 100 })
    await until(async () => (await store.count(carol.did)).messages === 0)
  } finally {
    await echo.close()
    await carol.close()
    await mediator.close()
    await store.close()
  }
  if (THREADS > 0) await oneThreadHttp(storeUri, base, params)
  // the queue in the heap (memory:) against the queue in a file (SQLite), each on a mediator of its own
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-mediator-'))
  try {
    for (const uri of ['memory:', `sqlite:${join(dir, 'queue.db')}`]) await heapAfterQueued(uri, params)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The same HTTP intake on a mediator without the decryption pool: what the pool adds. */
async function oneThreadHttp(storeUri: string, base: { name: string; value: number }, params: Record<string, unknown>) {
  const { mediator, store, server, carol, forwards } = await benchMediator(storeUri, 0)
  try {
    const bodies = await forwards(N)
    await postAll(server.url, await forwards(200)) // warm up, as the first mediator was by the baseline
    emit({
      name: 'mediator accepted over HTTP (queued, 202), forwards opened on the main thread (no decryption pool)',
      value: await postAll(server.url, bodies),
      unit: 'msg/s',
      baseline: base,
      params: { ...params, decryptThreads: 0 },
    })
  } finally {
    await carol.close()
    await mediator.close()
    await store.close()
  }
}

/** Heap growth while 10,000 1 KB forwards are queued (and left queued) in the store at `storeUri`. */
export async function heapAfterQueued(storeUri: string, params: Record<string, unknown>): Promise<void> {
  const { mediator, store, server, carol, forwards } = await benchMediator(storeUri)
  try {
    gc()
    const before = heapBytes()
    const tenK = 10_000
    const more = await forwards(tenK)
    const packedBytes = more.reduce((n, b) => n + b.length, 0)
    // warm up (JIT, sockets, prepared statements) right before: a socket idle while packing is closed by the server
    await postAll(server.url, await forwards(200))
    gc()
    const withBodies = heapBytes()
    await postAll(server.url, more)
    if ((await store.count(carol.did)).messages !== tenK + 200) throw new Error('not all queued')
    gc()
    const after = heapBytes()
    emit({
      name: `heap growth (JS heap + array buffers) after 10,000 queued 1 KB messages (${storeUri.split(':')[0]} store)`,
      value: (after - withBodies) / 2 ** 20,
      unit: 'MiB',
      baseline: { name: 'bytes of the queued envelopes', value: packedBytes / 2 ** 20 },
      params: {
        ...params,
        store: storeUri.split(':')[0],
        messages: tenK,
        heapBeforeMiB: Math.round(before / 2 ** 20),
        heapAfterMiB: Math.round(after / 2 ** 20),
      },
    })
  } finally {
    await carol.close()
    await mediator.close()
    await store.close()
  }
}
