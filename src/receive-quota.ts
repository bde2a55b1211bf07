import { CarrierError } from './transport.js'

/** How much one sender may deliver to an agent per interval. */
export interface ReceiveQuotaOptions {
  /** Messages per sender per interval. */
  messages: number
  /** Envelope bytes per sender per interval. */
  bytes: number
  intervalMs: number
  /** The clock (tests pass a fixed one). */
  now?: () => number
}

export class ReceiveQuotaError extends CarrierError {
  constructor(
    readonly sender: string,
    message: string,
  ) {
    super('ERR_RECEIVE_QUOTA', message)
  }
}

interface Window {
  start: number
  messages: number
  bytes: number
  refused: number
  /** How many the sender's previous window refused. */
  previous: number
}

const MAX_SENDERS = 4096

/**
 * Fixed windows per sender: what arrives beyond `messages` or `bytes` within `intervalMs` is
 * refused. Only the first refusal of a window is reported (a flood gives one log line per
 * interval, not one per message), with how many the previous window refused.
 */
export class ReceiveQuota {
  private readonly windows = new Map<string, Window>()
  private readonly now: () => number

  constructor(private readonly o: ReceiveQuotaOptions) {
    this.now = o.now ?? Date.now
  }

  /** undefined: admitted. An error: refused, to report; null: refused, already reported. */
  admit(sender: string, bytes: number): ReceiveQuotaError | null | undefined {
    const t = this.now()
    let w = this.windows.get(sender)
    if (!w || t - w.start >= this.o.intervalMs) {
      const previous = w?.refused ?? 0
      this.windows.delete(sender)
      w = { start: t, messages: 0, bytes: 0, refused: 0, previous }
      this.windows.set(sender, w)
      if (this.windows.size > MAX_SENDERS) this.windows.delete(this.windows.keys().next().value as string)
    }
    if (w.messages + 1 <= this.o.messages && w.bytes + bytes <= this.o.bytes) {
      w.messages++
      w.bytes += bytes
      return undefined
    }
    w.refused++
    if (w.refused > 1) return null
    const over = w.messages + 1 > this.o.messages ? `${this.o.messages} messages` : `${this.o.bytes} bytes`
    return new ReceiveQuotaError(
      sender,
      `refusing messages from ${sender}: over its receive quota of ${over} per ${this.o.intervalMs / 1000} s (the rest of this interval is refused silently${w.previous ? `; ${w.previous} refused in its previous one` : ''})`,
    )
  }
}
