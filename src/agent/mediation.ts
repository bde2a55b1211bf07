import type { Agent, AgentMessage, AgentSendOptions } from '../agent.js'
import { didOf } from '../did/document.js'
import { createPeerDid, type PeerIdentity } from '../did/peer.js'
import type { Message } from '../didcomm/pack.js'
import {
  type CmVersion,
  mediateRequest,
  recipientQuery,
  recipientsOf,
  recipientUpdate,
  routingDidOf,
  type UpdateResult,
} from '../protocols/coordinate-mediation.js'
import {
  deliveryRequest,
  envelopesOf,
  liveDeliveryChange,
  messagesReceived,
  PICKUP,
  type PickupStatus,
  statusRequest,
} from '../protocols/pickup.js'
import { CarrierError } from '../transport.js'
import { MEDIA_ENCRYPTED } from '../wire/media.js'
import { type BackoffOptions, backoffDelay } from './backoff.js'

export class MediationDeniedError extends CarrierError {
  constructor(message: string) {
    super('ERR_MEDIATION_DENIED', message)
  }
}

/** A did:peer:2 whose only service is "through this mediator": senders forward to it, it holds our messages. */
export function createRoutedPeerDid(routingDid: string): PeerIdentity {
  return createPeerDid({ service: { uri: routingDid, accept: ['didcomm/v2'] } })
}

export interface MediationOptions {
  /** Coordinate-mediation version. Default 2.0 (what the Identus mediator speaks). */
  version?: CmVersion
  /** Which of the mediator's endpoints to use (default: the first this agent reaches). */
  via?: string
  timeoutMs?: number
  /**
   * When picked-up messages are acknowledged (messages-received: the mediator deletes them).
   * 'queued' (default): once the agent queued them for messages(). 'handled': once the reader of
   * messages() is done with each (asked for the next one), so a reader killed before it stored a
   * message gets it again from the mediator; `pickup()` then waits for the reader.
   */
  acknowledge?: 'queued' | 'handled'
}

/**
 * An agent's side of a mediator: granted mediation, it registers its DIDs, then picks up what waits
 * there — by polling (delivery-request, then messages-received) or live over a duplex link.
 */
export class MediationClient {
  private stopLive?: () => void

  private constructor(
    readonly agent: Agent,
    readonly mediatorDid: string,
    readonly routingDid: string,
    private readonly o: MediationOptions,
  ) {}

  /** Asks `mediatorDid` for mediation; rejects with MediationDeniedError or ProblemReportError. */
  static async request(agent: Agent, mediatorDid: string, o: MediationOptions = {}): Promise<MediationClient> {
    const answer = await agent.request(mediateRequest(o.version ?? '2.0'), MediationClient.sendOptions(mediatorDid, o))
    if (answer.message.type.endsWith('/mediate-deny')) throw new MediationDeniedError(`${mediatorDid} denied mediation`)
    return new MediationClient(agent, mediatorDid, routingDidOf(answer.message), o)
  }

  private static sendOptions(to: string, o: MediationOptions): AgentSendOptions & { timeoutMs?: number } {
    return { to, ...(o.via ? { via: o.via } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }
  }

  private ask(m: Message, via = this.o.via): Promise<AgentMessage> {
    return this.agent.request(m, MediationClient.sendOptions(this.mediatorDid, { ...this.o, via }))
  }

  /** Registers recipient DIDs (ours: messages to them wait at the mediator). Resolves to each result. */
  async addRecipients(dids: string[]): Promise<UpdateResult[]> {
    return this.update(dids, 'add')
  }

  async removeRecipients(dids: string[]): Promise<UpdateResult[]> {
    return this.update(dids, 'remove')
  }

  private async update(dids: string[], action: 'add' | 'remove'): Promise<UpdateResult[]> {
    const a = await this.ask(
      recipientUpdate(
        this.o.version ?? '2.0',
        dids.map((recipient_did) => ({ recipient_did, action })),
      ),
    )
    const updated = (a.message.body?.updated ?? a.message.body?.updates) as { result?: UpdateResult }[] | undefined
    return (updated ?? []).map((u) => u.result ?? 'server_error')
  }

  async recipients(): Promise<string[]> {
    return recipientsOf((await this.ask(recipientQuery(this.o.version ?? '2.0'))).message)
  }

  async status(): Promise<PickupStatus> {
    return (await this.ask(statusRequest())).message.body as unknown as PickupStatus
  }

  /**
   * One pickup round: up to `limit` messages, each handed to the agent (its messages() yields them),
   * then acknowledged so the mediator removes them. Resolves to how many were picked up.
   */
  async pickup(o: { limit?: number } = {}): Promise<number> {
    const a = await this.ask(deliveryRequest({ limit: o.limit ?? 10 }))
    if (a.message.type !== PICKUP.delivery) return 0
    const { ids, handled } = await this.take(a.message)
    await handled
    await this.ask(messagesReceived(ids))
    return ids.length
  }

  /** Picks up until the queue is empty. */
  async drain(o: { limit?: number } = {}): Promise<number> {
    let total = 0
    for (let n = await this.pickup(o); n > 0; n = await this.pickup(o)) total += n
    return total
  }

  /**
   * Live mode over a duplex endpoint of the mediator (its ws:// URI, or MQTT): deliveries arrive as
   * they are queued. `keepOpen` (a WebSocket transport's) reopens the socket with backoff and asks
   * again each time.
   */
  async live(o: {
    via: string
    keepOpen?: (uri: string, onOpen: () => void) => () => void
    /** Retries of a live-delivery request that got no answer after a reopening. Default 250 … 10 000 ms, jittered. */
    backoff?: BackoffOptions
  }): Promise<void> {
    this.stopLive?.()
    const removeHandler = this.agent.addHandler(async (m) => {
      if (m.message.type !== PICKUP.delivery || m.message.thid !== undefined) return false
      if (!m.message.from || didOf(m.message.from) !== this.mediatorDid || !m.metadata.authenticated) return false
      const { ids, handled } = await this.take(m.message)
      // acknowledged by request (not awaited: its status answer comes by this same link, and the
      // reader may take its time), not queued for the app
      void handled.then(() => this.ask(messagesReceived(ids), o.via)).catch(() => undefined)
      return true
    })
    const ask = () => this.ask(liveDeliveryChange(true), o.via)
    // after each reopening (through a balancer: maybe to another instance) live mode is asked for
    // again until it is answered; a later reopening takes over
    let generation = 0
    let stopped = false
    const askUntilAnswered = async (gen: number) => {
      for (let attempt = 0; gen === generation && !stopped; attempt++) {
        try {
          await ask()
          return
        } catch {
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, o.backoff)))
        }
      }
    }
    let release: (() => void) | undefined
    if (o.keepOpen) {
      let first = true
      release = o.keepOpen(o.via, () => {
        if (first) first = false
        else void askUntilAnswered(++generation)
      })
    }
    this.stopLive = () => {
      stopped = true
      removeHandler()
      release?.()
    }
    await ask()
  }

  /** Leaves live mode (the mediator keeps queueing). */
  async stop(): Promise<void> {
    this.stopLive?.()
    this.stopLive = undefined
  }

  /** Hands a delivery's envelopes to the agent; `handled` resolves when they may be acknowledged. */
  private async take(delivery: Message): Promise<{ ids: string[]; handled: Promise<unknown> }> {
    const ids: string[] = []
    const handled: Promise<void>[] = []
    const untilHandled = this.o.acknowledge === 'handled'
    for (const { id, envelope } of envelopesOf(delivery)) {
      const r = { data: new TextEncoder().encode(envelope), mediaType: MEDIA_ENCRYPTED, transferId: id }
      if (untilHandled) {
        let onHandled = () => {}
        handled.push(new Promise<void>((resolve) => (onHandled = resolve)))
        await this.agent.accept(r, { onHandled })
      } else await this.agent.accept(r)
      ids.push(id)
    }
    return { ids, handled: Promise.all(handled) }
  }
}

/** Coordinate mediation with `mediatorDid` and register the agent's own DID there. */
export async function useMediator(agent: Agent, mediatorDid: string, o: MediationOptions = {}): Promise<MediationClient> {
  const client = await MediationClient.request(agent, mediatorDid, o)
  await client.addRecipients([agent.did])
  return client
}
