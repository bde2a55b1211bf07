import type { CarrierError, Received, ReceiveProgress } from '../transport.js'

/** Options of createTransport; every limit has a default a phone can afford. */
export interface TransportOptions {
  /** Largest envelope accepted or sent (after inflating). Default 64 MiB. */
  maxMessageBytes?: number
  /** Partial incoming transfers kept per link; the least recently active is dropped beyond it. Default 16. */
  maxConcurrentTransfers?: number
  /** Bytes held by partial transfers and undelivered messages. Default 256 MiB. */
  maxBytesHeld?: number
  /** A partial incoming transfer with no activity for this long is dropped. Default 60 s. */
  partialTtlMs?: number
  /**
   * Idle time-out: a send rejects with ERR_TRANSFER_TIMEOUT when the receiver shows no progress
   * (no new segment acknowledged, no DONE/REJECT) for this long, whatever else it sends. Default 30 s.
   */
  transferTimeoutMs?: number
  /** Overall time-out of a send on a duplex link (SendOptions.timeoutMs overrides it). Default 30 min. */
  sendTimeoutMs?: number
  /** Bytes in flight per transfer on a duplex link. Default 1 MiB. */
  windowBytes?: number
  /** First retransmission time-out before a round trip is measured, and its floor. Defaults 250 / 20 ms. */
  initialRtoMs?: number
  minRtoMs?: number
  /** How long a receiver waits for more frames before reporting progress. Default 5 ms. */
  ackDelayMs?: number
  /** Default of SendOptions.compress. */
  compress?: boolean | 'auto'
  /** Most source blocks a fountain transfer may have (the decoder holds K² bits). Default 8192. */
  maxFountainBlocks?: number
  /** Receive-side progress, for progress bars and for detecting a new QR session. */
  onProgress?: (p: ReceiveProgress) => void
  /** An incoming transfer was dropped (limits, time-out, integrity). Library code never prints. */
  onDrop?: (error: CarrierError, transferId: string) => void
  /** Close the link when the transport closes. Default true. */
  closeLink?: boolean
  /**
   * Handle each message before it is acknowledged, instead of queueing it for receive(): the
   * sender's send() resolves only after the handler returned, so a receiver that dies while
   * handling gets the message again (or another consumer does). If the handler throws, the
   * transfer is refused and the sender's send() rejects.
   */
  onMessage?: (message: Received) => void | Promise<void>
}

export type ResolvedOptions = Required<Omit<TransportOptions, 'onProgress' | 'onDrop' | 'onMessage'>> &
  Pick<TransportOptions, 'onProgress' | 'onDrop' | 'onMessage'>

export function resolveOptions(o: TransportOptions = {}): ResolvedOptions {
  return {
    maxMessageBytes: o.maxMessageBytes ?? 64 * 1024 * 1024,
    maxConcurrentTransfers: o.maxConcurrentTransfers ?? 16,
    maxBytesHeld: o.maxBytesHeld ?? 256 * 1024 * 1024,
    partialTtlMs: o.partialTtlMs ?? 60_000,
    transferTimeoutMs: o.transferTimeoutMs ?? 30_000,
    sendTimeoutMs: o.sendTimeoutMs ?? 30 * 60_000,
    windowBytes: o.windowBytes ?? 1024 * 1024,
    initialRtoMs: o.initialRtoMs ?? 250,
    minRtoMs: o.minRtoMs ?? 20,
    ackDelayMs: o.ackDelayMs ?? 5,
    compress: o.compress ?? 'auto',
    maxFountainBlocks: o.maxFountainBlocks ?? 8192,
    closeLink: o.closeLink ?? true,
    onProgress: o.onProgress,
    onDrop: o.onDrop,
    onMessage: o.onMessage,
  }
}

/** Largest stream a receiver accepts: the message limit plus media type prefix and digest. */
export function maxStreamBytes(o: ResolvedOptions): number {
  return o.maxMessageBytes + 512
}
