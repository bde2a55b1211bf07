/**
 * The contracts every channel meets (Link) and every caller uses (Transport), and the typed errors.
 * A Link moves one small frame; the core (src/wire) turns it into a Transport that moves envelopes
 * of any size.
 */

export interface Link {
  /** Largest frame the channel carries right now (may grow after negotiation). */
  readonly mtu: number
  /** false for simplex channels (QR): no acks, the core switches to fountain coding. */
  readonly duplex: boolean
  /**
   * true when frames arrive whole and unaltered or not at all — a TCP or TLS stream underneath
   * (MQTT). The core then checks only each DATA frame's header and ends the stream with XXH64
   * instead of SHA-256 (docs/WIRE.md). Leave it unset for radio and optical channels.
   */
  readonly intact?: boolean
  /**
   * Optional: a buffer of exactly `bytes` for a DATA frame the core is about to send, which the link
   * takes back for reuse once it no longer needs the frame sent in it (MQTT: at its PUBACK). Without
   * it the core allocates each frame, garbage as soon as the link is done with it.
   */
  frameBuffer?(bytes: number): Uint8Array
  /** Resolves when the channel took the frame (backpressure). Rejects with LinkDownError while down. */
  send(frame: Uint8Array, signal?: AbortSignal): Promise<void>
  onFrame(handler: (frame: Uint8Array) => void): () => void
  close(): Promise<void>
}

export interface SendProgress {
  sentBytes: number
  totalBytes: number
}

export interface SendOptions {
  mediaType?: string
  signal?: AbortSignal
  onProgress?: (p: SendProgress) => void
  /** Compress with deflate-raw: true, false, or 'auto' (JSON-like envelopes of 256 bytes and more, kept only if smaller). */
  compress?: boolean | 'auto'
  /** Simplex links only: stop after this many frames instead of running until `signal` aborts. */
  frameBudget?: number
  /** Duplex links: the whole send settles within this many ms (default: the transport's sendTimeoutMs). */
  timeoutMs?: number
}

export interface SendReport {
  transferId: string
  /** Envelope bytes as given by the caller. */
  envelopeBytes: number
  /** Bytes of the transfer stream after compression (plus framing data the receiver verifies). */
  streamBytes: number
  compressed: boolean
  /** Frames this transfer put on the link, retransmissions included. */
  frames: number
  retransmissions: number
  /** Times the transfer started over because the receiver had lost its state (restarted, evicted). */
  restarts?: number
  /** Duplex: the receiver confirmed the SHA-256 of what it assembled. Simplex: always false. */
  confirmed: boolean
  durationMs: number
}

export interface Received {
  data: Uint8Array
  mediaType: string
  transferId: string
  /**
   * Set when `data` lies in a buffer the transport reuses: call it once, when nothing reads `data`
   * any more, and the buffer carries a later message. Never calling it is fine (it is then garbage).
   */
  release?: () => void
}

export interface ReceiveProgress {
  transferId: string
  /** Bytes (duplex) or independent symbols (simplex) held so far. */
  received: number
  total: number
  unit: 'bytes' | 'symbols'
}

export interface Transport {
  send(envelope: Uint8Array | string, options?: SendOptions): Promise<SendReport>
  receive(options?: { signal?: AbortSignal }): AsyncIterable<Received>
  close(): Promise<void>
}

/** Every error this toolkit throws carries a stable `code`. */
export class CarrierError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

export class MessageTooLargeError extends CarrierError {
  constructor(message: string) {
    super('ERR_MESSAGE_TOO_LARGE', message)
  }
}
export class TransferTimeoutError extends CarrierError {
  constructor(message: string) {
    super('ERR_TRANSFER_TIMEOUT', message)
  }
}
/** The receiver lost the transfer's state (it restarted, or evicted it) more often than the sender starts over. */
export class PeerResetError extends CarrierError {
  constructor(message: string) {
    super('ERR_PEER_RESET', message)
  }
}
export class LinkDownError extends CarrierError {
  constructor(message = 'link is down', options?: { cause?: unknown }) {
    super('ERR_LINK_DOWN', message, options)
  }
}
export class LinkClosedError extends CarrierError {
  constructor(message = 'link is closed') {
    super('ERR_LINK_CLOSED', message)
  }
}
export class TransportClosedError extends CarrierError {
  constructor(message = 'transport is closed') {
    super('ERR_TRANSPORT_CLOSED', message)
  }
}
export class ReceiverBusyError extends CarrierError {
  constructor(message: string) {
    super('ERR_RECEIVER_BUSY', message)
  }
}
export class IntegrityError extends CarrierError {
  constructor(message: string) {
    super('ERR_INTEGRITY', message)
  }
}
export class RejectedError extends CarrierError {
  constructor(message: string) {
    super('ERR_REJECTED', message)
  }
}
export class FrameTooLargeError extends CarrierError {
  constructor(message: string) {
    super('ERR_FRAME_TOO_LARGE', message)
  }
}
export class MtuTooSmallError extends CarrierError {
  constructor(message: string) {
    super('ERR_MTU_TOO_SMALL', message)
  }
}
/** name is 'AbortError' so code that checks `err.name` (the web convention) keeps working. */
export class AbortError extends CarrierError {
  constructor(reason?: unknown) {
    super('ERR_ABORTED', 'the operation was aborted', { cause: reason })
    this.name = 'AbortError'
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason)
}

/**
 * The scheme of a URI with its colon ('mqtt:', 'ble:'), lower-cased, or undefined when it has
 * none. Read from the text (RFC 3986 §3.1), not through `URL`: React Native's URL implements
 * no `protocol`.
 */
export function uriScheme(uri: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)
  return m ? `${(m[1] as string).toLowerCase()}:` : undefined
}
