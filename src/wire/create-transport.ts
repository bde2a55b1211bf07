import {
  type Link,
  type Received,
  RejectedError,
  type SendOptions,
  type SendReport,
  type Transport,
  TransportClosedError,
} from '../transport.js'
import { AsyncQueue } from './async-queue.js'
import { bareEnvelopeMediaType } from './bare.js'
import { FountainReceiver, sendFountain } from './fountain/session.js'
import { decodeControl, FLAG_INTACT, isBareJson, isDataFrame, T_CANCEL, T_START, T_SYMBOL } from './frame.js'
import { resolveOptions, type TransportOptions } from './options.js'
import { ReliableReceiver } from './reliable/receiver.js'
import { ReliableSender } from './reliable/sender.js'

export interface TransportStats {
  /** Bytes reserved by partial incoming transfers. */
  bytesHeld: number
  /** Bytes of received messages nobody has taken from receive() yet. */
  queuedBytes: number
  partialTransfers: number
  /** Frames that were not ours, malformed, or failed their check. */
  framesIgnored: number
}

export interface CarrierTransport extends Transport {
  readonly link: Link
  stats(): TransportStats
}

/**
 * A Transport over a Link: the reliable session on duplex links, the fountain session on simplex
 * ones. Both directions share the link; the receiver side also accepts a bare DIDComm JSON
 * envelope in one frame, as sent by agents that don't chunk.
 */
export function createTransport(link: Link, options?: TransportOptions): CarrierTransport {
  return new Session(link, options)
}

class Session implements CarrierTransport {
  private readonly opts
  private readonly sender: ReliableSender
  private readonly receiver: ReliableReceiver
  private readonly fountain: FountainReceiver
  private readonly unsubscribe: () => void
  private readonly queue = new AsyncQueue<Received>((r) => r.data.length)
  private closed = false
  private ignored = 0
  private bareCount = 0
  private fountainTid: number
  private readonly deliver: (r: Received) => void | Promise<void>

  constructor(
    readonly link: Link,
    options?: TransportOptions,
  ) {
    this.opts = resolveOptions(options)
    const handler = this.opts.onMessage
    const deliver = handler ? (r: Received) => (this.closed ? undefined : handler(r)) : (r: Received) => this.enqueue(r)
    this.deliver = deliver
    const queued = () => this.queue.bytes
    this.sender = new ReliableSender(link, this.opts)
    this.receiver = new ReliableReceiver(link, this.opts, deliver, queued)
    this.fountain = new FountainReceiver(this.opts, deliver, queued)
    this.fountainTid = crypto.getRandomValues(new Uint32Array(1))[0] as number
    this.unsubscribe = link.onFrame((frame) => this.onFrame(frame))
  }

  send(envelope: Uint8Array | string, options: SendOptions = {}): Promise<SendReport> {
    if (this.closed) return Promise.reject(new TransportClosedError())
    if (this.link.duplex) return this.sender.send(envelope, options)
    const tid = this.fountainTid
    this.fountainTid = (this.fountainTid + 1) >>> 0
    return sendFountain(this.link, this.opts, envelope, options, tid)
  }

  receive(options: { signal?: AbortSignal } = {}): AsyncIterable<Received> {
    return this.queue.iterate(options.signal)
  }

  stats(): TransportStats {
    return {
      bytesHeld: this.receiver.bytesHeld + this.fountain.bytesHeld,
      queuedBytes: this.queue.bytes,
      partialTransfers: this.receiver.partialTransfers,
      framesIgnored: this.ignored,
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.unsubscribe()
    this.sender.close(new TransportClosedError())
    this.receiver.close()
    this.fountain.close()
    this.queue.close()
    if (this.opts.closeLink) await this.link.close()
  }

  private enqueue(r: Received): void {
    if (!this.closed) this.queue.push(r)
  }

  private onFrame(frame: Uint8Array): void {
    if (this.closed || frame.length === 0) return
    if (isDataFrame(frame)) {
      if (this.link.duplex) this.receiver.onData(frame)
      return
    }
    if (isBareJson(frame)) {
      // only a whole, parseable DIDComm envelope is a message; the rest is garbage like any bad frame
      const mediaType = frame.length > this.opts.maxMessageBytes ? undefined : bareEnvelopeMediaType(frame)
      if (mediaType === undefined) return void this.ignored++
      const data = frame.slice()
      Promise.resolve(this.deliver({ data, mediaType, transferId: `bare-${++this.bareCount}` })).catch((err: unknown) =>
        this.opts.onDrop?.(new RejectedError(`the message handler failed: ${String(err)}`), 'bare'),
      )
      return
    }
    const c = decodeControl(frame)
    if (!c) return void this.ignored++
    switch (c.type) {
      case T_START:
        if (this.link.duplex) this.receiver.onStart(c)
        return
      case T_CANCEL:
        return this.receiver.onCancel(c.tid)
      case T_SYMBOL:
        // intact mode is the reliable session's only: a fountain stream always ends with SHA-256
        if (c.flags & FLAG_INTACT) return void this.ignored++
        return this.fountain.onSymbol(c)
      default:
        return this.sender.onControl(c)
    }
  }
}
