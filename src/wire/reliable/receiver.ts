import {
  AbortError,
  type CarrierError,
  IntegrityError,
  type Link,
  MessageTooLargeError,
  type Received,
  ReceiverBusyError,
  RejectedError,
  TransferTimeoutError,
} from '../../transport.js'
import { BufferPool } from '../buffer-pool.js'
import { toHex32 } from '../bytes.js'
import { createDigest, digestLength } from '../digest.js'
import {
  COMPACT_MAX_SEGMENT,
  type ControlFrame,
  dataSeqLow,
  dataSlot,
  encodeDone,
  encodeForgot,
  encodeReject,
  encodeReport,
  FLAG_ANSWER,
  FLAG_COMPACT,
  FLAG_INTACT,
  FLAG_RESUME,
  MAX_SLOTS,
  openData,
  REJECT_BUSY,
  REJECT_HANDLER,
  REJECT_INTEGRITY,
  REJECT_MALFORMED,
  REJECT_TOO_LARGE,
  REJECT_UNKNOWN,
  type T_START,
} from '../frame.js'
import { maxStreamBytes, type ResolvedOptions } from '../options.js'
import { openStream, streamDigest } from '../stream.js'
import { unrefTimer } from '../timing.js'
import { resolveSeq, windowSegments } from './window.js'

type StartFrame = Extract<ControlFrame, { type: typeof T_START }>

const COMPLETED_MEMORY = 4096
const MAX_SEGMENT = 4 * 1024 * 1024
/** Outcome remembered per finished transfer id: its digest, or the reason it was refused. */
type Finished = { digest: Uint8Array } | { reject: number } | 'verifying'

/**
 * The receiving half of the reliable session. It grants credits, reports gaps with a bitmap, keeps
 * partial state across link drops (keyed by transfer id, bounded by TTL, count and bytes), and
 * delivers each transfer once: a finished transfer id is remembered so a resent START or DATA
 * only gets its DONE again.
 */
export class ReliableReceiver {
  private readonly partial = new Map<number, IncomingTransfer>()
  /** Reassembly buffers, back from the handler of what they carried (Received.release). */
  private readonly buffers = new BufferPool(4, 64 * 1024)
  private readonly slotMap: (number | undefined)[] = new Array(MAX_SLOTS).fill(undefined)
  private readonly finished = new Map<number, Finished>()
  /** The transfer that last finished in each slot: its late DATA frames are no news to the sender. */
  private readonly finishedInSlot: (number | undefined)[] = new Array(MAX_SLOTS).fill(undefined)
  /** When a FORGOT last went out per slot (a flood of strange DATA gets a trickle of answers). */
  private readonly forgotAt = new Float64Array(MAX_SLOTS)
  private held = 0
  private sweepTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false

  constructor(
    private readonly link: Link,
    private readonly options: ResolvedOptions,
    private readonly deliver: (r: Received) => void | Promise<void>,
    private readonly queuedBytes: () => number,
  ) {}

  get bytesHeld(): number {
    return this.held
  }

  get partialTransfers(): number {
    return this.partial.size
  }

  onStart(f: StartFrame): void {
    const done = this.finished.get(f.tid)
    if (done !== undefined) {
      if (done === 'verifying') return
      this.emit('digest' in done ? encodeDone(f.tid, done.digest, this.link.mtu) : encodeReject(f.tid, done.reject))
      return
    }
    const now = Date.now()
    const existing = this.partial.get(f.tid)
    if (existing) {
      this.mapSlot(f.slot, existing)
      existing.lastActivity = now
      this.sendReport(existing, (f.flags & FLAG_ANSWER) !== 0)
      return
    }
    // The sender was told we hold this transfer, and we don't (restarted, evicted, timed out):
    // starting it afresh would leave the sender believing earlier segments delivered.
    if (f.flags & FLAG_RESUME) return this.emit(encodeReject(f.tid, REJECT_UNKNOWN))
    const compact = (f.flags & FLAG_COMPACT) !== 0
    // payload left unchecked per frame only where our side of the link vouches for it too
    if (f.flags & FLAG_INTACT && this.link.intact !== true) {
      return this.refuse(f.tid, REJECT_MALFORMED, new RejectedError('FLAG_INTACT on a link that does not deliver frames intact'))
    }
    if (
      f.total < digestLength(streamDigest(f.flags)) ||
      (compact && f.segmentSize > COMPACT_MAX_SEGMENT) ||
      (!compact && f.segmentSize > MAX_SEGMENT)
    ) {
      return this.refuse(f.tid, REJECT_MALFORMED, new RejectedError('malformed START'))
    }
    if (f.total > maxStreamBytes(this.options) || f.total > this.options.maxBytesHeld) {
      return this.refuse(f.tid, REJECT_TOO_LARGE, new MessageTooLargeError(`transfer of ${f.total} bytes exceeds the limit`))
    }
    this.sweep(now)
    while (this.partial.size >= this.options.maxConcurrentTransfers) this.evictOldest()
    while (this.partial.size > 0 && this.held + this.queuedBytes() + f.total > this.options.maxBytesHeld) this.evictOldest()
    if (this.held + this.queuedBytes() + f.total > this.options.maxBytesHeld) {
      return this.refuse(f.tid, REJECT_BUSY, new ReceiverBusyError('undelivered messages hold the byte budget'))
    }
    const t = new IncomingTransfer(f, compact, this.options, now, this.buffers)
    this.partial.set(f.tid, t)
    this.held += t.total
    this.mapSlot(f.slot, t)
    this.armSweep()
    this.sendReport(t, (f.flags & FLAG_ANSWER) !== 0)
  }

  onCancel(tid: number): void {
    const t = this.partial.get(tid)
    if (t) this.drop(t, new AbortError('the sender cancelled the transfer'))
  }

  onData(frame: Uint8Array): void {
    const slot = dataSlot(frame)
    const tid = this.slotMap[slot]
    const t = tid === undefined ? undefined : this.partial.get(tid)
    if (!t) return this.forgot(slot)
    const low = dataSeqLow(frame, t.compact)
    if (low === undefined) return
    const seq = resolveSeq(low, t.base, t.compact)
    if (seq < 0 || seq >= t.nSegs) return
    const payload = openData(frame, t.tid, seq, t.compact, t.intact)
    if (payload === undefined || payload.length !== t.segmentLength(seq)) return
    t.lastActivity = Date.now()
    if (!t.accept(seq, payload)) {
      this.scheduleReport(t)
      return
    }
    this.options.onProgress?.({
      transferId: toHex32(t.tid),
      received: Math.min(t.total, t.count * t.segmentSize),
      total: t.total,
      unit: 'bytes',
    })
    if (t.count === t.nSegs) void this.finish(t)
    else if (t.sinceReport >= t.ackEvery) this.sendReport(t)
    else this.scheduleReport(t)
  }

  close(): void {
    this.closed = true
    for (const t of this.partial.values()) t.clearTimer()
    this.partial.clear()
    this.held = 0
    if (this.sweepTimer) clearTimeout(this.sweepTimer)
  }

  private async finish(t: IncomingTransfer): Promise<void> {
    this.release(t)
    this.finishedInSlot[t.slot] = t.tid
    this.remember(t.tid, 'verifying')
    const buf = t.takeBuffer()
    try {
      // verify after the frame handler has returned: the link's read loop goes on meanwhile
      await Promise.resolve()
      const opened = await openStream(buf, t.flags, this.options.maxMessageBytes, t.contentDigest())
      if (this.closed) return
      try {
        await this.deliver({
          data: opened.data,
          mediaType: opened.mediaType,
          transferId: toHex32(t.tid),
          release: () => this.buffers.giveBack(buf),
        })
      } catch (err) {
        this.remember(t.tid, { reject: REJECT_HANDLER })
        this.refuse(t.tid, REJECT_HANDLER, new RejectedError(`the message handler failed: ${(err as Error)?.message ?? err}`))
        return
      }
      if (this.closed) return
      this.remember(t.tid, { digest: opened.digest })
      this.emit(encodeDone(t.tid, opened.digest, this.link.mtu))
    } catch (err) {
      const reason = err instanceof MessageTooLargeError ? REJECT_TOO_LARGE : REJECT_INTEGRITY
      this.remember(t.tid, { reject: reason })
      this.refuse(
        t.tid,
        reason,
        err instanceof IntegrityError || err instanceof MessageTooLargeError ? err : new IntegrityError(String(err)),
      )
    }
  }

  private remember(tid: number, outcome: Finished): void {
    this.finished.delete(tid)
    this.finished.set(tid, outcome)
    if (this.finished.size > COMPLETED_MEMORY) this.finished.delete(this.finished.keys().next().value as number)
  }

  private mapSlot(slot: number, t: IncomingTransfer): void {
    const previous = this.slotMap[slot]
    // A sender reuses a slot only after it is done with the transfer that held it.
    if (previous !== undefined && previous !== t.tid) {
      const old = this.partial.get(previous)
      if (old) this.drop(old, new AbortError('the sender moved on from this transfer'))
    }
    if (t.slot !== slot && this.slotMap[t.slot] === t.tid) this.slotMap[t.slot] = undefined
    t.slot = slot
    this.slotMap[slot] = t.tid
    this.finishedInSlot[slot] = undefined
  }

  private release(t: IncomingTransfer): void {
    t.clearTimer()
    this.partial.delete(t.tid)
    if (this.slotMap[t.slot] === t.tid) this.slotMap[t.slot] = undefined
    this.held -= t.total
  }

  /** DATA in a slot we hold no transfer for: tell the sender, unless it is a late frame of one that finished there. */
  private forgot(slot: number): void {
    if (this.slotMap[slot] === undefined && this.finishedInSlot[slot] !== undefined) return
    const now = Date.now()
    if (now - (this.forgotAt[slot] as number) < Math.max(20, this.options.minRtoMs)) return
    this.forgotAt[slot] = now
    this.emit(encodeForgot(slot))
  }

  private drop(t: IncomingTransfer, error: CarrierError): void {
    this.release(t)
    this.options.onDrop?.(error, toHex32(t.tid))
  }

  private refuse(tid: number, reason: number, error: CarrierError): void {
    this.emit(encodeReject(tid, reason))
    this.options.onDrop?.(error, toHex32(tid))
  }

  private evictOldest(): void {
    let oldest: IncomingTransfer | undefined
    for (const t of this.partial.values()) if (!oldest || t.lastActivity < oldest.lastActivity) oldest = t
    if (!oldest) return
    this.drop(oldest, new ReceiverBusyError('dropped to make room for a newer transfer'))
    this.emit(encodeReject(oldest.tid, REJECT_BUSY))
  }

  private sweep(now: number): void {
    for (const t of [...this.partial.values()]) {
      if (now - t.lastActivity > this.options.partialTtlMs) {
        this.drop(t, new TransferTimeoutError(`partial transfer idle for over ${this.options.partialTtlMs} ms`))
      }
    }
  }

  private armSweep(): void {
    if (this.sweepTimer || this.closed) return
    this.sweepTimer = setTimeout(
      () => {
        this.sweepTimer = undefined
        this.sweep(Date.now())
        if (this.partial.size > 0) this.armSweep()
      },
      Math.max(10, this.options.partialTtlMs / 4),
    )
    unrefTimer(this.sweepTimer)
  }

  private scheduleReport(t: IncomingTransfer): void {
    if (t.timer) return
    t.timer = setTimeout(() => {
      t.timer = undefined
      if (this.partial.get(t.tid) === t) this.sendReport(t)
    }, this.options.ackDelayMs)
  }

  /** `answer`: the reply to a START with FLAG_ANSWER, sent as ANSWER (it covers every frame sent before that START). */
  private sendReport(t: IncomingTransfer, answer = false): void {
    t.clearTimer()
    t.sinceReport = 0
    this.emit(
      encodeReport({ tid: t.tid, base: t.base, credit: t.window, bitmap: t.bitmap(this.link.mtu) }, this.link.mtu, answer),
    )
  }

  private emit(frame: Uint8Array): void {
    if (this.closed) return
    // Control frames are best effort: a lost report is recovered by the sender's time-out.
    this.link.send(frame).catch(() => {})
  }
}

class IncomingTransfer {
  readonly tid: number
  slot: number
  readonly flags: number
  readonly total: number
  readonly segmentSize: number
  readonly nSegs: number
  readonly window: number
  readonly ackEvery: number
  private buf: Uint8Array | undefined
  private readonly have: Uint8Array
  /** The content (all but the trailing digest) is hashed in order as segments arrive. */
  private readonly hasher
  private readonly contentLength: number
  readonly intact: boolean
  private hashed = 0
  count = 0
  base = 0
  private highest = -1
  sinceReport = 0
  lastActivity: number
  timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    f: StartFrame,
    readonly compact: boolean,
    options: ResolvedOptions,
    now: number,
    private readonly buffers: BufferPool,
  ) {
    this.tid = f.tid
    this.slot = f.slot
    this.flags = f.flags
    this.total = f.total
    this.segmentSize = f.segmentSize
    this.nSegs = Math.ceil(f.total / f.segmentSize)
    this.window = windowSegments(f.segmentSize, compact, options.windowBytes)
    this.ackEvery = Math.max(1, Math.floor(this.window / 4))
    this.have = new Uint8Array(this.nSegs)
    this.lastActivity = now
    this.intact = (f.flags & FLAG_INTACT) !== 0
    const kind = streamDigest(f.flags)
    this.hasher = createDigest(kind)
    this.contentLength = f.total - digestLength(kind)
  }

  segmentLength(seq: number): number {
    return seq === this.nSegs - 1 ? this.total - seq * this.segmentSize : this.segmentSize
  }

  /** Stores a segment; false if it was a duplicate. Memory is taken on the first real segment. */
  accept(seq: number, payload: Uint8Array): boolean {
    if (this.have[seq]) return false
    // every byte of it is written by a segment before the whole is read: a reused one will do
    this.buf ??= this.buffers.take(this.total)
    this.buf.set(payload, seq * this.segmentSize)
    this.have[seq] = 1
    this.count++
    this.sinceReport++
    if (seq > this.highest) this.highest = seq
    const base = this.base
    while (this.base < this.nSegs && this.have[this.base]) this.base++
    if (this.base > base) {
      const upTo = Math.min(this.base * this.segmentSize, this.contentLength)
      if (upTo > this.hashed) this.hasher.update(this.buf.subarray(this.hashed, upTo))
      this.hashed = Math.max(this.hashed, upTo)
    }
    return true
  }

  /** SHA-256 of the content, when every byte of it has been hashed on arrival. */
  contentDigest(): Uint8Array | undefined {
    return this.hashed === this.contentLength ? this.hasher.digest() : undefined
  }

  /** Bit i = segment base+1+i received. */
  bitmap(maxBytes: number): Uint8Array {
    const n = Math.min(Math.max(0, this.highest - this.base), maxBytes * 8)
    const bits = new Uint8Array(Math.ceil(n / 8))
    for (let i = 0; i < n; i++) {
      if (this.have[this.base + 1 + i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
    }
    return bits
  }

  takeBuffer(): Uint8Array {
    const b = this.buf ?? new Uint8Array(this.total)
    this.buf = undefined
    return b
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
