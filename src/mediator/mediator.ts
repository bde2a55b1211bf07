import { answerCompat } from '../agent/answers.js'
import {
  type Agent,
  type AgentExtras,
  type AgentIdentity,
  type AgentMessage,
  createAgent,
  type EndpointTransport,
  type IncomingEnvelope,
} from '../agent.js'
import { didOf, type Resolver, staticSecrets } from '../did/document.js'
import { createPeerDid, type PeerIdentity } from '../did/peer.js'
import { FORWARD_TYPE, type Message, packEncrypted, packPlaintext } from '../didcomm/pack.js'
import { BLOB_ACCESS, BLOB_ACCESS_REQUEST } from '../protocols/blob-access.js'
import {
  mediateGrant,
  parseCmType,
  recipientList,
  recipientUpdateResponse,
  type UpdateResult,
  updatesOf,
} from '../protocols/coordinate-mediation.js'
import type { Feature } from '../protocols/discover-features.js'
import { delivery, isPickup, limitOf, PICKUP, receivedIdsOf, recipientFilterOf, status } from '../protocols/pickup.js'
import { PROBLEM_REPORT, problemReport, RefusedMessageError } from '../protocols/report-problem.js'
import { forwardOf } from '../protocols/routing.js'
import { randomUUID } from '../random-uuid.js'
import { MEDIA_PLAIN } from '../wire/media.js'
import { answerBlobAccess, type MediatorBlobs } from './blob-access.js'
import { LiveSessions } from './live.js'
import { type MessageStore, QuotaExceededError } from './store.js'

export interface MediatorLimits {
  /** Largest envelope queued for a recipient, in bytes. Default 1 MiB. */
  maxMessageBytes?: number
  /** Most messages waiting for one recipient. Default 1000. */
  maxQueueMessages?: number
  /** Most bytes waiting for one recipient. Default 64 MiB. */
  maxQueueBytes?: number
  /** Most messages in one delivery. Default 100. */
  maxDelivery?: number
  /** How long a message without expires_time waits, in seconds. Default 7 days. */
  expirySeconds?: number
  /** A message sent on a live session and not acknowledged this long is sent again, in seconds. Default 30. */
  redeliverSeconds?: number
  /**
   * A live session's send window: most messages sent to it and not acknowledged. A consumer that
   * stops reading (or acknowledging) is sent nothing more; its messages wait in the store. Default 1000.
   */
  liveWindowMessages?: number
  /** The same window in envelope bytes. Default 8 MiB. */
  liveWindowBytes?: number
}

export interface MediatorOptions {
  identity: AgentIdentity
  store: MessageStore
  resolver: Resolver
  /** Every way in: HTTP/WS (adapters/http), MQTT (adapters/mqtt), BLE/NFC links — the mediator does not care. */
  transports: EndpointTransport[]
  limits?: MediatorLimits
  onError?: (error: unknown) => void
  /** Opens forwards off the main thread (AgentExtras.decrypt): adapters/threads' createDecryptPool. */
  decrypt?: AgentExtras['decrypt']
  /** Blobs for offline recipients (blob-access 1.0 grants tokens; adapters/http/blob-routes.ts serves them). */
  blobs?: MediatorBlobs
}

export interface Mediator {
  readonly did: string
  readonly agent: Agent
  readonly store: MessageStore
  /** Clients with a live pickup session in this instance. */
  liveClients(): string[]
  /** What a live session was sent and has not acknowledged (its send window), or undefined without one. */
  liveWindow(client: string): { messages: number; bytes: number } | undefined
  close(): Promise<void>
}

const FEATURES: Feature[] = [
  { 'feature-type': 'protocol', id: 'https://didcomm.org/coordinate-mediation/2.0', roles: ['mediator'] },
  { 'feature-type': 'protocol', id: 'https://didcomm.org/coordinate-mediation/3.0', roles: ['mediator'] },
  { 'feature-type': 'protocol', id: 'https://didcomm.org/messagepickup/3.0', roles: ['mediator'] },
  { 'feature-type': 'protocol', id: 'https://didcomm.org/routing/2.0', roles: ['mediator'] },
]
const BLOB_FEATURE: Feature = { 'feature-type': 'protocol', id: BLOB_ACCESS, roles: ['mediator'] }

/** A did:peer:2 for a mediator reachable at these endpoints (HTTP first: the Identus SDK posts to the first). */
export function mediatorIdentity(endpoints: string[]): PeerIdentity {
  return createPeerDid({ service: endpoints.map((uri) => ({ uri, accept: ['didcomm/v2'] })) })
}

/**
 * The mediator role on top of an agent: coordinate-mediation 2.0/3.0 grants and recipient keys,
 * routing 2.0 forwards queued in the store (the sender hears "accepted" only once the store has it),
 * pickup 3.0 by request or live over any duplex link. Only a DID proven by authcrypt that was
 * granted mediation updates its keys or picks up; anyone may send a forward. Requests in Veramo 7's
 * authcrypt variant (single recipient; its skid proves the sender as ours does) are read and answered
 * in that variant; agents read the standard forms only.
 */
export function createMediator(o: MediatorOptions): Mediator {
  const limits = {
    maxMessageBytes: 1 << 20,
    maxQueueMessages: 1000,
    maxQueueBytes: 64 << 20,
    maxDelivery: 100,
    expirySeconds: 7 * 24 * 3600,
    ...o.limits,
  }
  const did = o.identity.did
  const secrets = staticSecrets(o.identity.secrets)
  const store = o.store
  const report = (err: unknown) => o.onError?.(err)

  /** Encrypted for the client, sent back the way its message came (HTTP body, socket, inbox), else to its endpoint. */
  async function pack(m: Message, client: string, compat?: 'veramo'): Promise<string> {
    const msg = { ...m, from: did, to: [client] }
    return (await packEncrypted(msg, { to: client, from: did, resolver: o.resolver, secrets, forward: false, compat })).packed
  }
  async function answer(to: AgentMessage, env: IncomingEnvelope, m: Message): Promise<void> {
    const client = didOf(to.message.from as string)
    const compat = answerCompat(to.metadata)
    if (env.reply) {
      await env.reply(await pack(m, client, compat))
      return
    }
    await agent.send({ ...m, from: did }, { to: client, compat }).catch(report)
  }

  /** A refusal: a problem report to the sender however it can be reached, and the error for the transport. */
  async function refuse(m: AgentMessage, env: IncomingEnvelope, code: string, problem: string, comment: string): Promise<never> {
    const p = problemReport({ code: problem, comment, about: m.message })
    if (m.metadata.authenticated && m.message.from) {
      const sent = await answer(m, env, p).then(
        () => true,
        (err: unknown) => {
          report(err)
          return false
        },
      )
      throw new RefusedMessageError(code, p, sent && env.reply !== undefined)
    }
    if (env.reply && !env.done) await env.reply(packPlaintext(p), { mediaType: MEDIA_PLAIN }).catch(report)
    throw new RefusedMessageError(code, p)
  }

  /** The client DID proven by authcrypt, when it was granted mediation. */
  async function grantedClient(m: AgentMessage, env: IncomingEnvelope): Promise<string> {
    const client = m.metadata.authenticated && m.message.from ? didOf(m.message.from) : undefined
    if (!client)
      return refuse(
        m,
        env,
        'ERR_NOT_GRANTED',
        'e.p.req.not-authenticated',
        'send it authcrypted by the DID that was granted mediation',
      )
    if (!(await store.grantOf(client)))
      return refuse(m, env, 'ERR_NOT_GRANTED', 'e.p.req.not-granted', `${client} was not granted mediation here`)
    return client
  }

  /** Resolves once the enqueue of the forward handled last was submitted (enqueues go in arrival order). */
  let submitted: Promise<void> = Promise.resolve()

  /**
   * A forward is handled in the background ({ pending }): the next envelope is handled meanwhile, so
   * recipient lookups overlap (a PostgreSQL round trip each) and enqueues that are pending together
   * commit together. Enqueues are still submitted in arrival order; the sender hears "accepted" when
   * the store has the message.
   */
  function forward(m: AgentMessage, env: IncomingEnvelope): { pending: Promise<void> } {
    const f = forwardOf(m.message)
    const lookup = store.clientOfKey(f.next).then(async (c) => c ?? (await store.clientOfKey(didOf(f.next))))
    const before = submitted
    let release = () => {}
    submitted = new Promise<void>((r) => (release = r))
    const pending = (async () => {
      let enqueued: Promise<void>
      try {
        const client = await lookup
        if (!client)
          return refuse(m, env, 'ERR_UNKNOWN_RECIPIENT', 'e.p.msg.unknown-recipient', `nobody here registered ${f.next}`)
        const data = new TextEncoder().encode(f.envelope)
        if (data.length > limits.maxMessageBytes)
          return refuse(
            m,
            env,
            'ERR_MESSAGE_TOO_LARGE',
            'e.p.msg.too-big',
            `${data.length} bytes: over ${limits.maxMessageBytes}`,
          )
        await before
        const now = Date.now()
        const expiresAt = Math.min(
          now + limits.expirySeconds * 1000,
          f.expiresTime !== undefined ? f.expiresTime * 1000 : Infinity,
        )
        enqueued = store.enqueue(
          { id: randomUUID(), recipient: client, data, receivedAt: now, expiresAt },
          { maxMessages: limits.maxQueueMessages, maxBytes: limits.maxQueueBytes },
        )
      } finally {
        release()
      }
      try {
        await enqueued
      } catch (err) {
        if (err instanceof QuotaExceededError) return refuse(m, env, 'ERR_QUOTA_EXCEEDED', 'e.p.msg.quota-exceeded', err.message)
        throw err
      }
    })()
    return { pending }
  }

  async function mediation(m: AgentMessage, env: IncomingEnvelope, kind: string): Promise<void> {
    if (kind === 'mediate-request') {
      const client = m.metadata.authenticated && m.message.from ? didOf(m.message.from) : undefined
      if (!client) return refuse(m, env, 'ERR_NOT_GRANTED', 'e.p.req.not-authenticated', 'ask for mediation authcrypted')
      await store.setGrant(client, (await store.grantOf(client)) ?? { routingDid: did, grantedAt: Date.now() })
      return answer(m, env, mediateGrant(m.message, did))
    }
    const client = await grantedClient(m, env)
    if (kind === 'update') {
      const results: (ReturnType<typeof updatesOf>[number] & { result: UpdateResult })[] = []
      for (const u of updatesOf(m.message)) {
        const owner = await store.clientOfKey(u.recipient_did)
        if (owner !== null && owner !== client) results.push({ ...u, result: 'client_error' })
        else if (u.action === 'add') {
          if (owner === null) await store.addKeys(client, [u.recipient_did])
          results.push({ ...u, result: owner === null ? 'success' : 'no_change' })
        } else {
          if (owner !== null) await store.removeKeys(client, [u.recipient_did])
          results.push({ ...u, result: owner === null ? 'no_change' : 'success' })
        }
      }
      return answer(m, env, recipientUpdateResponse(m.message, results))
    }
    if (kind === 'query') return answer(m, env, recipientList(m.message, await store.keysOf(client)))
    return refuse(m, env, 'ERR_UNSUPPORTED_MESSAGE', 'e.m.msg.unsupported', `a mediator does not take ${m.message.type}`)
  }

  async function statusOf(client: string, thid?: string): Promise<Message> {
    const c = await store.count(client)
    return status({ message_count: c.messages, total_bytes: c.bytes, live_delivery: live.has(client) }, { thid })
  }

  async function pickup(m: AgentMessage, env: IncomingEnvelope): Promise<void> {
    const client = await grantedClient(m, env)
    const type = m.message.type
    // a filter (recipient_did; Veramo's recipient_key, a key id) names one of the client's own recipients or nothing
    const filter = recipientFilterOf(m.message)
    if (filter !== undefined && ((await store.clientOfKey(filter)) ?? (await store.clientOfKey(didOf(filter)))) !== client)
      return refuse(
        m,
        env,
        'ERR_UNKNOWN_RECIPIENT',
        'e.p.req.unknown-recipient',
        `${client} registered no recipient ${filter} here`,
      )
    if (type === PICKUP.statusRequest) return answer(m, env, await statusOf(client, m.message.id))
    if (type === PICKUP.deliveryRequest) {
      const queued = await store.peek(client, limitOf(m.message, limits.maxDelivery))
      if (queued.length === 0) return answer(m, env, await statusOf(client, m.message.id))
      const envelopes = queued.map((q) => ({ id: q.id, envelope: new TextDecoder().decode(q.data) }))
      return answer(m, env, delivery(envelopes, { thid: m.message.id }))
    }
    if (type === PICKUP.messagesReceived) {
      const ids = receivedIdsOf(m.message)
      await store.delete(client, ids)
      live.acknowledged(client, ids)
      return answer(m, env, await statusOf(client, m.message.id))
    }
    if (type === PICKUP.liveDeliveryChange) {
      if (m.message.body?.live_delivery !== true) {
        live.stop(client)
        return answer(m, env, await statusOf(client, m.message.id))
      }
      if (!env.reply || !env.duplex)
        return refuse(
          m,
          env,
          'ERR_UNSUPPORTED_MESSAGE',
          'e.m.live-mode-not-supported',
          'live delivery needs a duplex link (WebSocket, MQTT, BLE)',
        )
      live.start(client, env.reply)
      await answer(m, env, await statusOf(client, m.message.id))
      void live.deliver(client)
      return
    }
    return refuse(m, env, 'ERR_UNSUPPORTED_MESSAGE', 'e.m.msg.unsupported', `pickup 3.0 has no ${type}`)
  }

  async function handle(m: AgentMessage, env: IncomingEnvelope): Promise<boolean | { pending: Promise<void> }> {
    const type = m.message.type
    if (type === FORWARD_TYPE) return forward(m, env)
    if (isPickup(type)) await pickup(m, env)
    else if (type === BLOB_ACCESS_REQUEST && o.blobs) {
      const a = await answerBlobAccess(m, store, o.blobs)
      if ('refusal' in a) await refuse(m, env, a.refusal.code, a.refusal.problem, a.refusal.comment)
      else await answer(m, env, a.grant)
    } else if (type === PROBLEM_REPORT)
      return true // never answer a problem with a problem
    else {
      const cm = parseCmType(type)
      if (cm) await mediation(m, env, cm.kind)
      else await refuse(m, env, 'ERR_UNSUPPORTED_MESSAGE', 'e.m.msg.unsupported', `a mediator does not take ${type}`)
    }
    return true
  }

  const agent = createAgent({
    identity: o.identity,
    resolver: o.resolver,
    transports: o.transports,
    policy: { requireEncrypted: true, compat: { veramoAuthcrypt: true } },
    onError: report,
    extras: { features: o.blobs ? [...FEATURES, BLOB_FEATURE] : FEATURES, handle, decrypt: o.decrypt },
  })
  const live = new LiveSessions({
    store,
    maxDelivery: limits.maxDelivery,
    redeliverMs: (limits.redeliverSeconds ?? 30) * 1000,
    maxUnacked: limits.liveWindowMessages,
    maxUnackedBytes: limits.liveWindowBytes,
    pack: async (client, envelopes) => pack(delivery(envelopes), client),
    onError: report,
  })
  const offEnqueued = store.onEnqueued((recipient) => void live.deliver(recipient))
  // the store's signal from other instances was interrupted: every live session looks again
  const offMissed = store.onMissed?.(() => live.deliverAll())
  const purge = setInterval(() => {
    void store.purgeExpired(Date.now()).catch(report)
    void o.blobs?.store.purgeExpired(Date.now()).catch(report)
  }, 60_000)
  ;(purge as { unref?: () => void }).unref?.()
  agent.receive()

  return {
    did,
    agent,
    store,
    liveClients: () => live.clients(),
    liveWindow: (client) => live.window(client),
    async close() {
      clearInterval(purge)
      offEnqueued()
      offMissed?.()
      live.close()
      await agent.close()
    },
  }
}
