import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { WebSocket } from 'ws'
import { webEndpointTransport } from '../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../src/agent/mediation.js'
import { createAgent, createMessage, didPeerResolver, MEDIA_ENCRYPTED, packEncrypted } from '../src/index.js'
import { createMediator, mediatorIdentity } from '../src/mediator/index.js'
import { openStore } from '../stores/index.js'
import { emit } from './lib.js'

/**
 * The mediator's throughput for 1 KB messages: forwards accepted (queued in the store) over HTTP
 * and over WebSocket, and delivered (pickup over HTTP; live over WebSocket), each compared in the
 * same run with a plain node:http server that reads the body and answers 202; and the heap after
 * 10,000 queued messages. MEDIATOR_BENCH_STORE picks the store (default memory:).
 */
const N = Number(process.env.MEDIATOR_BENCH_N ?? 2000)
const CONCURRENCY = 32

function gc(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

async function postAll(url: string, bodies: string[]): Promise<number> {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': MEDIA_ENCRYPTED }, body })
        await res.arrayBuffer()
        if (res.status !== 202) throw new Error(`${url} answered ${res.status}`)
      }
    }),
  )
  return bodies.length / ((performance.now() - start) / 1000)
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

export async function mediatorBench(): Promise<void> {
  const storeUri = process.env.MEDIATOR_BENCH_STORE ?? 'memory:'
  const store = await openStore(storeUri)
  const web = await webEndpointTransport({ listen: {} })
  const server = web.server as NonNullable<typeof web.server>
  const identity = mediatorIdentity([server.url, server.wsUrl])
  const mediator = createMediator({
    identity,
    store,
    resolver: didPeerResolver,
    transports: [web],
    limits: { maxQueueMessages: 1_000_000, maxQueueBytes: 1 << 30, maxDelivery: 100 },
  })
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
  // fresh envelopes for every run: the mediator drops a forward id it has seen (duplicates)
  const bodies = await forwards(N)
  const wsBodies = await forwards(N)
  const liveBodies = await forwards(N)
  const params = { messages: N, messageBytes: 1024, envelopeBytes: bodies[0]?.length, concurrency: CONCURRENCY, store: storeUri }
  const echo = await echoServer()
  try {
    await postAll(echo.url, bodies.slice(0, 200)) // warm the client up
    const baseline = await postAll(echo.url, bodies)
    const base = { name: 'node:http server answering 202 (same client, same bodies)', value: baseline }

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
    await counting
    emit({
      name: 'mediator accepted over HTTP and delivered live over WebSocket (end to end)',
      value: N / ((performance.now() - start) / 1000),
      unit: 'msg/s',
      baseline: base,
      params,
    })
    await client.stop()
    await until(async () => (await store.count(carol.did)).messages === 0)

    gc()
    const before = process.memoryUsage().heapUsed
    const tenK = 10_000
    const more = await forwards(tenK)
    const packedBytes = more.reduce((n, b) => n + b.length, 0)
    gc()
    const withBodies = process.memoryUsage().heapUsed
    await postAll(server.url, more)
    gc()
    const after = process.memoryUsage().heapUsed
    emit({
      name: 'heap growth after 10,000 queued 1 KB messages',
      value: (after - withBodies) / 2 ** 20,
      unit: 'MiB',
      baseline: { name: 'bytes of the queued envelopes', value: packedBytes / 2 ** 20 },
      params: {
        ...params,
        messages: tenK,
        heapBeforeMiB: Math.round(before / 2 ** 20),
        heapAfterMiB: Math.round(after / 2 ** 20),
      },
    })
  } finally {
    await echo.close()
    await carol.close()
    await mediator.close()
    await store.close()
  }
}
