import type { IncomingMessage, ServerResponse } from 'node:http'
import type * as Prom from 'prom-client'
import { DuplicateMessageError, type MessageStore, QuotaExceededError, StoreInputError } from '../src/mediator/store.js'
import type { StoreAdmin } from '../stores/admin.js'

/** Latency buckets in seconds: 1 ms … 10 s (intake is a commit; delivery may wait for a client to come back). */
const INTAKE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600]
/** Peeked messages whose receive time is remembered for the delivery histogram. */
const REMEMBERED = 100_000

/**
 * The mediator's operability: Prometheus metrics (prom-client), a store wrapped to count what it
 * accepts, delivers and fails, and the routes /healthz (process up), /readyz (store answers a real
 * query, not shutting down) and /metrics.
 */
export async function mediatorOps(o: { admin: StoreAdmin; liveSessions: () => number; draining: () => boolean }) {
  // loaded here, not when the CLI starts: every other command stays as quick to start
  const prom: typeof Prom = await import('prom-client')
  const registry = new prom.Registry()
  prom.collectDefaultMetrics({ register: registry })
  const accepted = new prom.Counter({
    name: 'carrier_mediator_accepted_total',
    help: 'Forwarded messages queued (the sender heard accepted)',
    registers: [registry],
  })
  const refused = new prom.Counter({
    name: 'carrier_mediator_refused_total',
    help: 'Envelopes and requests refused, by reason (error code)',
    labelNames: ['reason', 'transport'],
    registers: [registry],
  })
  const delivered = new prom.Counter({
    name: 'carrier_mediator_delivered_total',
    help: 'Queued messages acknowledged by their recipient (messages-received) and removed',
    registers: [registry],
  })
  const storeErrors = new prom.Counter({
    name: 'carrier_mediator_store_errors_total',
    help: 'Store calls that failed (database unreachable, disk full…), by operation',
    labelNames: ['op'],
    registers: [registry],
  })
  const intake = new prom.Histogram({
    name: 'carrier_mediator_intake_seconds',
    help: 'From an HTTP envelope read to its 202 (once queued)',
    buckets: INTAKE_BUCKETS,
    registers: [registry],
  })
  const delivery = new prom.Histogram({
    name: 'carrier_mediator_delivery_seconds',
    help: 'From a message queued to its acknowledgement by the recipient',
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  })
  // durable stores answer with a real query (every instance sees the same queue); memory: this process's tally
  let tally = 0
  new prom.Gauge({
    name: 'carrier_mediator_queue_messages',
    help: 'Messages waiting in the store for their recipients',
    registers: [registry],
    async collect() {
      this.set(o.admin.durable ? (await o.admin.depth()).messages : tally)
    },
  })
  new prom.Gauge({
    name: 'carrier_mediator_live_sessions',
    help: 'Clients with a live pickup session in this instance',
    registers: [registry],
    collect() {
      this.set(o.liveSessions())
    },
  })

  const receivedAt = new Map<string, number>()
  const expected = (err: unknown) =>
    err instanceof QuotaExceededError || err instanceof DuplicateMessageError || err instanceof StoreInputError

  /** The store the mediator uses: the same calls, counted. */
  function instrument(store: MessageStore): MessageStore {
    const failing = <T>(op: string, p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        if (!expected(err)) storeErrors.inc({ op })
        throw err
      })
    const wrapped: MessageStore = Object.create(store)
    for (const op of [
      'count',
      'purgeExpired',
      'setGrant',
      'grantOf',
      'addKeys',
      'removeKeys',
      'keysOf',
      'clientOfKey',
    ] as const) {
      const f = (store[op] as (...a: unknown[]) => Promise<unknown>).bind(store)
      ;(wrapped as unknown as Record<string, unknown>)[op] = (...a: unknown[]) => failing(op, f(...a))
    }
    wrapped.enqueue = async (message, limits) => {
      await failing('enqueue', store.enqueue(message, limits))
      accepted.inc()
      tally++
    }
    wrapped.peek = async (recipient, limit) => {
      const queued = await failing('peek', store.peek(recipient, limit))
      for (const q of queued) {
        if (receivedAt.size >= REMEMBERED) receivedAt.delete(receivedAt.keys().next().value as string)
        receivedAt.set(q.id, q.receivedAt)
      }
      return queued
    }
    wrapped.delete = async (recipient, ids) => {
      const n = await failing('delete', store.delete(recipient, ids))
      delivered.inc(n)
      tally = Math.max(0, tally - n)
      const now = Date.now()
      for (const id of ids) {
        const t = receivedAt.get(id)
        if (t === undefined) continue
        receivedAt.delete(id)
        if (n > 0) delivery.observe((now - t) / 1000)
      }
      return n
    }
    wrapped.onEnqueued = (l) => store.onEnqueued(l)
    wrapped.close = () => store.close()
    return wrapped
  }

  async function routes(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (path === '/healthz') send(200, 'application/json', '{"status":"ok"}')
    else if (path === '/readyz') {
      if (o.draining()) send(503, 'application/json', '{"status":"shutting down"}')
      else
        await o.admin.depth().then(
          () => send(200, 'application/json', '{"status":"ready"}'),
          (err: Error) => {
            storeErrors.inc({ op: 'readyz' })
            send(503, 'application/json', JSON.stringify({ status: 'store unreachable', error: err.message }))
          },
        )
    } else if (path === '/metrics') send(200, registry.contentType, await registry.metrics())
    else return false
    return true
  }

  return {
    registry,
    instrument,
    routes,
    refused: (r: { transport: string; code?: string }) => refused.inc({ reason: r.code ?? 'other', transport: r.transport }),
    answered: (a: { status: number; ms: number }) => {
      if (a.status === 202) intake.observe(a.ms / 1000)
    },
  }
}
