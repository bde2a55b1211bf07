import type { ReplyOnLink } from '../agent.js'
import type { MessageStore } from './store.js'

interface Session {
  reply: ReplyOnLink
  /** Sent on this session and not yet acknowledged by messages-received: not sent again. */
  sent: Set<string>
}

/**
 * Pickup 3.0 live mode: clients whose messages go out the moment they are queued, over the duplex
 * link they asked on. A message stays in the store until messages-received, so a dead socket
 * ("phantom" session) loses nothing: the session is dropped when a send fails and the message
 * waits for the next pickup.
 */
export class LiveSessions {
  private readonly sessions = new Map<string, Session>()
  private readonly busy = new Map<string, Promise<void>>()
  private readonly dirty = new Set<string>()

  constructor(
    private readonly o: {
      store: MessageStore
      maxDelivery: number
      /** How long a trigger waits for more messages before the delivery goes. Default 5 ms. */
      lingerMs?: number
      pack: (client: string, envelopes: { id: string; envelope: string }[]) => Promise<string>
      onError?: (err: unknown) => void
    },
  ) {}

  clients(): string[] {
    return [...this.sessions.keys()]
  }

  has(client: string): boolean {
    return this.sessions.has(client)
  }

  start(client: string, reply: ReplyOnLink): void {
    this.sessions.set(client, { reply, sent: new Set() })
  }

  stop(client: string): void {
    this.sessions.delete(client)
  }

  acknowledged(client: string, ids: readonly string[]): void {
    const s = this.sessions.get(client)
    if (s) for (const id of ids) s.sent.delete(id)
  }

  /**
   * Sends what waits for `client` on its live session. One delivery at a time per client; triggers
   * that come while one is being sent are folded into the next, so a burst goes out in batches.
   */
  deliver(client: string): Promise<void> {
    if (!this.sessions.has(client)) {
      this.dirty.delete(client)
      return Promise.resolve()
    }
    const running = this.busy.get(client)
    if (running) {
      this.dirty.add(client)
      return running
    }
    const run = (async () => {
      do {
        // a short linger lets a burst go out as one delivery (one encryption, one acknowledgement)
        await new Promise((r) => setTimeout(r, this.o.lingerMs ?? 5))
        this.dirty.delete(client)
        await this.deliverNow(client)
      } while (this.dirty.has(client) && this.sessions.has(client))
    })().finally(() => {
      this.busy.delete(client)
      // a trigger that came after the loop's last look (it saw this run still busy) is not lost
      if (this.dirty.has(client)) void this.deliver(client)
    })
    this.busy.set(client, run)
    return run
  }

  private async deliverNow(client: string): Promise<void> {
    const s = this.sessions.get(client)
    if (!s) return
    try {
      const queued = await this.o.store.peek(client, this.o.maxDelivery + s.sent.size)
      const fresh = queued.filter((q) => !s.sent.has(q.id)).slice(0, this.o.maxDelivery)
      if (fresh.length === 0) return
      const envelopes = fresh.map((q) => ({ id: q.id, envelope: new TextDecoder().decode(q.data) }))
      const packed = await this.o.pack(client, envelopes)
      // marked before the send: an acknowledgement can overtake the send's completion
      for (const q of fresh) s.sent.add(q.id)
      await s.reply(packed)
    } catch (err) {
      // the link is gone: the messages wait in the store for the next pickup
      if (this.sessions.get(client) === s) this.sessions.delete(client)
      this.o.onError?.(err)
    }
  }

  close(): void {
    this.sessions.clear()
  }
}
