import type { ReplyOnLink } from '../agent.js'
import type { MessageStore, QueuedMessage } from './store.js'

interface Session {
  reply: ReplyOnLink
  /** Sent on this session and not yet acknowledged by messages-received, with when: sent again after `redeliverMs`. */
  sent: Map<string, number>
  /** Bytes of the envelopes in `sent`, by id. */
  sentBytes: Map<string, number>
  /** Sum of sentBytes. */
  bytes: number
  /** The last look filled its limit: more may wait behind what was sent (an acknowledgement sends it). */
  more: boolean
}

export interface LiveOptions {
  store: MessageStore
  maxDelivery: number
  /**
   * The session's send window: at most this many messages sent and not acknowledged (whatever the
   * socket still buffers is among them). A consumer that stops reading its socket stops being sent
   * to; what waits stays in the store. Default 1000.
   */
  maxUnacked?: number
  /** The same window in envelope bytes (at least one message always goes). Default 8 MiB. */
  maxUnackedBytes?: number
  /** How long a trigger waits for more messages before the delivery goes. Default 5 ms. */
  lingerMs?: number
  /** A message sent and not acknowledged this long is sent again on the session. Default 30 s. */
  redeliverMs?: number
  /** After a store or packing failure, the delivery is tried again this much later (the session stays). Default 1 s. */
  retryMs?: number
  pack: (client: string, envelopes: { id: string; envelope: string }[]) => Promise<string>
  onError?: (err: unknown) => void
}

/**
 * Pickup 3.0 live mode: clients whose messages go out the moment they are queued, over the duplex
 * link they asked on. The store knows nothing of sessions: a session lives in the process that
 * holds its link, every instance sharing the store hears of every enqueue (onEnqueued) and delivers
 * to the sessions it holds, so no instance can be believed to hold a session it lost by dying.
 * A message stays in the store until messages-received: a session (re)started first gets what is
 * queued, a dead socket ("phantom" session) loses nothing (the session is dropped when a send
 * fails), and what a session was sent but never acknowledged is sent again after `redeliverMs`.
 */
export class LiveSessions {
  private readonly sessions = new Map<string, Session>()
  private readonly busy = new Map<string, Promise<void>>()
  private readonly dirty = new Set<string>()
  private readonly retries = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly sweep: ReturnType<typeof setInterval>
  private readonly redeliverMs: number
  private readonly maxUnacked: number
  private readonly maxUnackedBytes: number

  constructor(private readonly o: LiveOptions) {
    this.redeliverMs = o.redeliverMs ?? 30_000
    this.maxUnacked = Math.max(1, o.maxUnacked ?? 1000)
    this.maxUnackedBytes = Math.max(1, o.maxUnackedBytes ?? 8 << 20)
    // what waits unacknowledged past its time is sent again, even when nothing new arrives
    this.sweep = setInterval(() => this.redeliverOverdue(), Math.max(50, Math.min(5000, this.redeliverMs / 4)))
    ;(this.sweep as { unref?: () => void }).unref?.()
  }

  clients(): string[] {
    return [...this.sessions.keys()]
  }

  has(client: string): boolean {
    return this.sessions.has(client)
  }

  /** A (new) session for `client` on this link; what is queued for it goes out at once. */
  start(client: string, reply: ReplyOnLink): void {
    this.sessions.set(client, { reply, sent: new Map(), sentBytes: new Map(), bytes: 0, more: false })
  }

  stop(client: string): void {
    this.sessions.delete(client)
  }

  acknowledged(client: string, ids: readonly string[]): void {
    const s = this.sessions.get(client)
    if (!s) return
    for (const id of ids) forget(s, id)
    // a backlog larger than one delivery (queued while the client was away) goes on without waiting
    // for the next enqueue, which may never come
    if (s.more) void this.deliver(client)
  }

  /** Every session looks at its queue again (enqueue signals from other instances may have been lost). */
  deliverAll(): void {
    for (const client of this.sessions.keys()) void this.deliver(client)
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
    let packed: string
    let fresh: QueuedMessage[]
    try {
      const now = Date.now()
      // a full window with nothing overdue: no need to look into the store (a slow consumer's
      // every new message would read its whole window again)
      if (s.sent.size >= this.maxUnacked && !this.overdue(s, now)) {
        s.more = true
        return
      }
      const limit = this.o.maxDelivery + s.sent.size
      const queued = await this.o.store.peek(client, limit)
      s.more = queued.length >= limit
      // the whole queue was read: what was sent and is gone was acknowledged elsewhere (another instance)
      if (queued.length < limit) {
        const left = new Set(queued.map((q) => q.id))
        for (const id of [...s.sent.keys()]) if (!left.has(id)) forget(s, id)
      }
      // the send window: what is new goes out only while the unacknowledged stay under both bounds
      let room = this.maxUnacked - s.sent.size
      let roomBytes = this.maxUnackedBytes - s.bytes
      fresh = []
      for (const q of queued) {
        if (fresh.length >= this.o.maxDelivery) break
        const at = s.sent.get(q.id)
        if (at !== undefined) {
          if (now - at >= this.redeliverMs) fresh.push(q)
          continue
        }
        if (room <= 0 || (roomBytes < q.data.length && s.sent.size + fresh.length > 0)) {
          // held back until acknowledgements make room (they trigger the next delivery)
          s.more = true
          break
        }
        room--
        roomBytes -= q.data.length
        fresh.push(q)
      }
      if (fresh.length === 0) return
      const envelopes = fresh.map((q) => ({ id: q.id, envelope: new TextDecoder().decode(q.data) }))
      packed = await this.o.pack(client, envelopes)
    } catch (err) {
      // the store or the packing failed, not the link: the session stays and tries again
      this.o.onError?.(err)
      this.retryLater(client)
      return
    }
    // marked before the send: an acknowledgement can overtake the send's completion
    const at = Date.now()
    for (const q of fresh) {
      if (!s.sent.has(q.id)) {
        s.sentBytes.set(q.id, q.data.length)
        s.bytes += q.data.length
      }
      s.sent.set(q.id, at)
    }
    try {
      await s.reply(packed)
    } catch (err) {
      // the link is gone: the messages wait in the store for the client's next session
      if (this.sessions.get(client) === s) this.sessions.delete(client)
      this.o.onError?.(err)
    }
  }

  private retryLater(client: string): void {
    if (this.retries.has(client)) return
    const t = setTimeout(() => {
      this.retries.delete(client)
      void this.deliver(client)
    }, this.o.retryMs ?? 1000)
    ;(t as { unref?: () => void }).unref?.()
    this.retries.set(client, t)
  }

  private overdue(s: Session, now: number): boolean {
    for (const at of s.sent.values()) if (now - at >= this.redeliverMs) return true
    return false
  }

  private redeliverOverdue(): void {
    const now = Date.now()
    for (const [client, s] of this.sessions) if (this.overdue(s, now)) void this.deliver(client)
  }

  /** What a session holds: sent and not acknowledged (messages, envelope bytes). */
  window(client: string): { messages: number; bytes: number } | undefined {
    const s = this.sessions.get(client)
    return s && { messages: s.sent.size, bytes: s.bytes }
  }

  close(): void {
    clearInterval(this.sweep)
    for (const t of this.retries.values()) clearTimeout(t)
    this.retries.clear()
    this.sessions.clear()
  }
}

function forget(s: Session, id: string): void {
  if (!s.sent.delete(id)) return
  s.bytes -= s.sentBytes.get(id) ?? 0
  s.sentBytes.delete(id)
}
