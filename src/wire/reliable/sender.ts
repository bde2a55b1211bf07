import {
  AbortError,
  type CarrierError,
  IntegrityError,
  type Link,
  LinkDownError,
  MessageTooLargeError,
  PeerResetError,
  ReceiverBusyError,
  RejectedError,
  type SendOptions,
  type SendReport,
  TransferTimeoutError,
  TransportClosedError,
  throwIfAborted,
} from '../../transport.js'
import { toHex32 } from '../bytes.js'
import { equalBytes } from '../digest.js'
import {
  type ControlFrame,
  encodeCancel,
  encodeData,
  encodeStart,
  FLAG_ANSWER,
  FLAG_COMPACT,
  FLAG_INTACT,
  FLAG_RESUME,
  MAX_SLOTS,
  REJECT_BUSY,
  REJECT_INTEGRITY,
  REJECT_TOO_LARGE,
  REJECT_UNKNOWN,
  T_ANSWER,
  T_DONE,
  T_FORGOT,
  T_REJECT,
  T_REPORT,
  T_START,
  VERSION_BITS,
} from '../frame.js'
import type { ResolvedOptions } from '../options.js'
import { type PreparedStream, prepareStream } from '../stream.js'
import { Waker, yieldToEventLoop } from '../timing.js'
import { segmentPlan, windowSegments } from './window.js'

const MAX_RTO_MS = 3000
const REORDER_SLACK = 3
const INTEGRITY_RETRIES = 2
/** Times a transfer starts over from zero when the receiver lost its state, before ERR_PEER_RESET. */
const MAX_RESTARTS = 3
/** setTimeout fires at once beyond this; a longer overall time-out needs no slot timer. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Frames sent in a row before letting timers and I/O run. */
const BURST = 64
/** STARTs awaiting their ANSWER, per transfer; beyond it the oldest is forgotten. */
const MAX_STARTS_PENDING = 32

/**
 * The sending half of the reliable session: selective repeat within receiver-granted credits.
 * A gap is resent when a segment sent after it has been acknowledged (the receiver's bitmap shows
 * it), or on a retransmission time-out while the receiver is alive. When it stays silent past a
 * time-out, only a START goes out as a probe (the time-out doubling up to a bound), and what was in
 * flight is resent once it answers: a silent peer gets one window and then probes, never a stream
 * of retransmissions. The
 * probe is also how a transfer resumes after the link comes back, and how the sender learns that
 * the receiver lost its state (REJECT 6): it then starts the transfer over from zero.
 * Every send settles: an idle time-out (no progress) and an overall one.
 */
export class ReliableSender {
  private readonly byTid = new Map<number, OutgoingTransfer>()
  private readonly slots: (OutgoingTransfer | undefined)[] = new Array(MAX_SLOTS).fill(undefined)
  private nextSlot = 0
  private readonly slotWaiters: (() => void)[] = []
  private nextTid: number
  private closed: CarrierError | undefined

  constructor(
    private readonly link: Link,
    private readonly options: ResolvedOptions,
  ) {
    this.nextTid = randomU32()
  }

  async send(envelope: Uint8Array | string, options: SendOptions = {}): Promise<SendReport> {
    throwIfAborted(options.signal)
    if (this.closed) throw this.closed
    const timeoutMs = options.timeoutMs ?? this.options.sendTimeoutMs
    const deadline = Date.now() + timeoutMs
    const prepared = await prepareStream(envelope, {
      mediaType: options.mediaType,
      compress: options.compress ?? this.options.compress,
      maxMessageBytes: this.options.maxMessageBytes,
      intact: this.link.intact === true,
    })
    let integrityRetries = 0
    let restarts = 0
    for (;;) {
      const slot = await this.acquireSlot(options.signal, deadline, timeoutMs)
      const tid = this.nextTid
      this.nextTid = (this.nextTid + 1) >>> 0
      const transfer = new OutgoingTransfer(this.link, this.options, prepared, tid, slot, options, deadline, timeoutMs)
      this.slots[slot] = transfer
      this.byTid.set(tid, transfer)
      try {
        const report = await transfer.run()
        return restarts > 0 ? { ...report, restarts } : report
      } catch (err) {
        if (err instanceof IntegrityError && transfer.rejectedForIntegrity && integrityRetries++ < INTEGRITY_RETRIES) continue
        if (err instanceof PeerResetError && restarts < MAX_RESTARTS) {
          restarts++
          continue
        }
        throw err
      } finally {
        this.byTid.delete(tid)
        this.slots[slot] = undefined
        this.slotWaiters.shift()?.()
      }
    }
  }

  onControl(frame: ControlFrame): void {
    if (frame.type === T_FORGOT) return this.slots[frame.slot]?.onForgot()
    if (frame.type !== T_REPORT && frame.type !== T_ANSWER && frame.type !== T_DONE && frame.type !== T_REJECT) return
    this.byTid.get(frame.tid)?.onControl(frame)
  }

  close(error: CarrierError = new TransportClosedError()): void {
    this.closed = error
    for (const t of this.byTid.values()) t.fail(error)
    for (const w of this.slotWaiters.splice(0)) w()
  }

  /** Slots are handed out round-robin so a slot is reused as late as possible. */
  private async acquireSlot(signal: AbortSignal | undefined, deadline: number, timeoutMs: number): Promise<number> {
    for (;;) {
      throwIfAborted(signal)
      if (this.closed) throw this.closed
      if (Date.now() >= deadline) throw sendTimeout(timeoutMs)
      for (let i = 0; i < MAX_SLOTS; i++) {
        const s = (this.nextSlot + i) % MAX_SLOTS
        if (this.slots[s] === undefined) {
          this.nextSlot = (s + 1) % MAX_SLOTS
          return s
        }
      }
      await new Promise<void>((resolve, reject) => {
        const waiter = () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        const giveUp = (error: CarrierError) => {
          const i = this.slotWaiters.indexOf(waiter)
          if (i !== -1) this.slotWaiters.splice(i, 1)
          signal?.removeEventListener('abort', onAbort)
          clearTimeout(timer)
          reject(error)
        }
        const onAbort = () => giveUp(new AbortError(signal?.reason))
        const left = deadline - Date.now()
        const timer = left < MAX_TIMER_MS ? setTimeout(() => giveUp(sendTimeout(timeoutMs)), left) : undefined
        signal?.addEventListener('abort', onAbort, { once: true })
        this.slotWaiters.push(waiter)
      })
    }
  }
}

class OutgoingTransfer {
  private readonly segmentSize: number
  private readonly compact: boolean
  /** FLAG_INTACT: DATA frames check their header only. */
  private readonly intact: boolean
  private readonly nSegs: number
  private readonly window: number
  private readonly acked: Uint8Array
  private readonly queued: Uint8Array
  private readonly sentOrder: Float64Array
  private readonly retransmitQueue: number[] = []
  private ackedCount = 0
  private base = 0
  private nextNew = 0
  private windowEnd: number
  private order = 0
  private maxAckedOrder = 0
  private needStart = true
  /** A REPORT was heard: the receiver holds state for this transfer, so STARTs carry FLAG_RESUME. */
  private heardReport = false
  /** A time-out sent a bare probe; what was in flight is resent when the receiver answers. */
  private probing = false
  /**
   * This transfer's receiver answered one of its STARTs with ANSWER (wire 1.2). Learnt per
   * transfer, not per link: a group's consumers may run different versions, and a 1.1 receiver
   * that takes a transfer over answers REPORT, so that transfer keeps the 1.1 time-outs (an exact
   * sender would wait forever for an ANSWER to show the frames it lost).
   */
  private answered = false
  /** Intact link (whole frames in order, or none) and a receiver that answers STARTs: resend only what an ANSWER shows lost. */
  private exact(): boolean {
    return this.intact && this.answered
  }

  /** The receiver said something since the last time-out: it is alive, the tail of the window was lost. */
  private heardSinceTimeout = false
  private startsSent = 0
  /** `order` when each START not yet answered went out: an ANSWER covers every frame sent before its START. */
  private readonly startOrders: number[] = []
  private startSentAt = 0
  private rttMeasured = false
  private rto: number
  private baseRto: number
  /** Last time the receiver acknowledged something new (idle time-out). */
  private lastProgress = 0
  private lastActive = 0
  private frames = 0
  private retransmissions = 0
  private outcome: { ok: true } | { ok: false; error: CarrierError } | undefined
  private readonly waker = new Waker()
  /** DATA frames go into the link's recycled buffers when it has them (Link.frameBuffer). */
  private readonly frameBuffer: ((bytes: number) => Uint8Array) | undefined
  rejectedForIntegrity = false

  constructor(
    private readonly link: Link,
    private readonly options: ResolvedOptions,
    private readonly prepared: PreparedStream,
    private readonly tid: number,
    private readonly slot: number,
    private readonly sendOptions: SendOptions,
    private readonly deadline: number,
    private readonly timeoutMs: number,
  ) {
    const plan = segmentPlan(link.mtu)
    this.segmentSize = plan.segmentSize
    this.compact = plan.compact
    this.intact = (prepared.flags & FLAG_INTACT) !== 0
    this.nSegs = Math.max(1, Math.ceil(prepared.length / this.segmentSize))
    this.window = windowSegments(this.segmentSize, this.compact, options.windowBytes)
    this.acked = new Uint8Array(this.nSegs)
    this.queued = new Uint8Array(this.nSegs)
    this.sentOrder = new Float64Array(this.nSegs)
    // Optimistic first window: data follows START at once; a receiver that missed START drops it
    // and the probe after a time-out recovers.
    this.windowEnd = Math.min(this.nSegs, this.window)
    this.rto = this.baseRto = options.initialRtoMs
    this.frameBuffer = link.frameBuffer?.bind(link)
  }

  fail(error: CarrierError): void {
    this.outcome ??= { ok: false, error }
    this.waker.wake()
  }

  async run(): Promise<SendReport> {
    const started = Date.now()
    this.lastProgress = this.lastActive = started
    const signal = this.sendOptions.signal
    const idle = this.options.transferTimeoutMs
    let burst = 0
    try {
      while (this.outcome === undefined) {
        throwIfAborted(signal)
        const now = Date.now()
        if (now - this.lastProgress > idle) {
          throw new TransferTimeoutError(`the receiver made no progress for ${idle} ms`)
        }
        if (now >= this.deadline) throw sendTimeout(this.timeoutMs)
        if (now >= this.lastActive + this.rto) this.onTimeout(now)
        const frame = this.nextFrame()
        if (frame === undefined) {
          const until = Math.min(this.lastActive + this.rto, this.lastProgress + idle + 1, this.deadline)
          await this.waker.wait(until - now, signal)
          continue
        }
        try {
          await this.link.send(frame, signal)
        } catch (err) {
          if (!(err instanceof LinkDownError)) throw err
          // a START that never left is answered by no one
          if (isStart(frame)) this.startOrders.pop()
          // The link comes back underneath; probe with START when it does.
          this.needStart = true
          this.probing = true
          await this.waker.wait(Math.min(this.rto, 500), signal)
          this.lastActive = Date.now()
          continue
        }
        this.frames++
        this.lastActive = Date.now()
        if (++burst >= BURST) {
          burst = 0
          await yieldToEventLoop()
        }
      }
    } catch (err) {
      if (err instanceof AbortError || (signal?.aborted ?? false)) {
        this.link.send(encodeCancel(this.tid)).catch(() => {})
        throw err instanceof AbortError ? err : new AbortError(signal?.reason)
      }
      throw err
    }
    if (!this.outcome.ok) throw this.outcome.error
    return {
      transferId: toHex32(this.tid),
      envelopeBytes: this.prepared.envelopeBytes,
      streamBytes: this.prepared.length,
      compressed: this.prepared.compressed,
      frames: this.frames,
      retransmissions: this.retransmissions,
      confirmed: true,
      durationMs: Date.now() - started,
    }
  }

  /**
   * An RTO without news: probe with START, back off, and resend the rest of what was in flight when
   * the receiver answers. A receiver heard since the last time-out is alive and probably lost the
   * window's tail, so the oldest quarter window goes out with the probe (as TCP resends its first
   * segment); a silent one gets the probe alone.
   */
  private onTimeout(now: number): void {
    this.needStart = true
    this.probing = true
    // on an intact link a peer that answers STARTs tells us what was lost: a silence there is
    // frames queued behind others (a broker, a busy receiver), and guessing would send them twice
    if (this.heardSinceTimeout && !this.exact()) {
      let n = Math.ceil(this.window / 4)
      for (let s = this.base; s < this.nextNew && n > 0; s++) {
        if (this.acked[s]) continue
        this.enqueue(s)
        n--
      }
    }
    this.heardSinceTimeout = false
    this.rto = Math.min(MAX_RTO_MS, this.rto * 2)
    this.lastActive = now
  }

  /** The receiver got DATA in our slot without holding the transfer: a START tells it, or tells us it lost it. */
  onForgot(): void {
    if (this.outcome || this.needStart) return
    this.needStart = true
    this.waker.wake()
  }

  private enqueue(s: number): void {
    if (this.acked[s] || this.queued[s]) return
    this.queued[s] = 1
    this.retransmitQueue.push(s)
  }

  private nextFrame(): Uint8Array | undefined {
    if (this.needStart) {
      this.needStart = false
      this.startsSent++
      this.startSentAt = Date.now()
      this.startOrders.push(this.order)
      if (this.startOrders.length > MAX_STARTS_PENDING) this.startOrders.shift()
      return encodeStart({
        slot: this.slot,
        tid: this.tid,
        flags: this.prepared.flags | FLAG_ANSWER | (this.compact ? FLAG_COMPACT : 0) | (this.heardReport ? FLAG_RESUME : 0),
        total: this.prepared.length,
        segmentSize: this.segmentSize,
      })
    }
    while (this.retransmitQueue.length > 0) {
      const s = this.retransmitQueue.shift() as number
      this.queued[s] = 0
      if (this.acked[s]) continue
      this.retransmissions++
      return this.dataFrame(s)
    }
    if (this.nextNew < this.windowEnd) return this.dataFrame(this.nextNew++)
    return undefined
  }

  private dataFrame(s: number): Uint8Array {
    this.sentOrder[s] = ++this.order
    const from = s * this.segmentSize
    const payload = this.prepared.slice(from, Math.min(from + this.segmentSize, this.prepared.length))
    return encodeData(this.slot, this.tid, s, this.compact, payload, this.intact, this.frameBuffer)
  }

  private markAcked(s: number): void {
    if (this.acked[s]) return
    this.acked[s] = 1
    this.ackedCount++
    this.lastProgress = Date.now()
    const o = this.sentOrder[s] as number
    if (o > this.maxAckedOrder) this.maxAckedOrder = o
  }

  onControl(frame: ControlFrame): void {
    if (this.outcome) return
    const now = Date.now()
    this.lastActive = now
    this.heardSinceTimeout = true
    if (frame.type === T_REPORT || frame.type === T_ANSWER) this.onReport(frame, now, frame.type === T_ANSWER)
    else if (frame.type === T_DONE) {
      const n = frame.digest.length
      if (n < 8 || !equalBytes(frame.digest, this.prepared.digest.subarray(0, n))) {
        this.outcome = { ok: false, error: new IntegrityError('the receiver confirmed a different SHA-256') }
      } else {
        this.outcome = { ok: true }
        this.progress(this.prepared.length)
      }
    } else if (frame.type === T_REJECT) {
      this.outcome = { ok: false, error: rejectError(frame.reason) }
      this.lastProgress = now
      this.rejectedForIntegrity = frame.reason === REJECT_INTEGRITY
    }
    this.waker.wake()
  }

  private onReport(r: { base: number; credit: number; bitmap: Uint8Array }, now: number, answer: boolean): void {
    if (!this.rttMeasured && this.startsSent === 1) {
      this.rttMeasured = true
      const rtt = now - this.startSentAt
      this.baseRto = Math.max(this.options.minRtoMs, 2 * rtt + 2 * this.options.ackDelayMs)
    }
    this.rto = this.baseRto
    this.heardReport = true
    const reportBase = Math.min(r.base, this.nSegs)
    for (let s = this.base; s < reportBase; s++) this.markAcked(s)
    let highest = reportBase - 1
    const bits = r.bitmap.length * 8
    for (let i = 0; i < bits; i++) {
      const s = reportBase + 1 + i
      if (s >= this.nSegs) break
      if (((r.bitmap[i >> 3] as number) >> (i & 7)) & 1) {
        this.markAcked(s)
        highest = s
      }
    }
    while (this.base < this.nSegs && this.acked[this.base]) this.base++
    this.windowEnd = Math.min(this.nSegs, reportBase + r.credit, this.base + this.window)
    const limit = Math.min(this.nextNew, highest)
    // the reply to our oldest unanswered START (a lost START makes it the reply to a later one,
    // which only resends less)
    const before = answer ? (this.startOrders.shift() ?? 0) : 0
    if (answer) this.answered = true
    if (answer && this.exact()) {
      // an intact link delivers in order or not at all: what was sent before that START and is not
      // acknowledged is lost, and only that is sent again
      this.probing = false
      for (let s = this.base; s < this.nextNew; s++) {
        if (!this.acked[s] && (this.sentOrder[s] as number) <= before) this.enqueue(s)
      }
    } else if (this.probing && !this.exact()) {
      // the answer to a probe: whatever was in flight before the silence is resent once
      this.probing = false
      for (let s = this.base; s < this.nextNew; s++) this.enqueue(s)
    } else {
      for (let s = this.base; s < limit; s++) {
        if (!this.acked[s] && (this.sentOrder[s] as number) + REORDER_SLACK < this.maxAckedOrder) this.enqueue(s)
      }
    }
    this.progress(Math.min(this.prepared.length, this.ackedCount * this.segmentSize))
  }

  private progress(sentBytes: number): void {
    this.sendOptions.onProgress?.({ sentBytes, totalBytes: this.prepared.length })
  }
}

function rejectError(reason: number): CarrierError {
  switch (reason) {
    case REJECT_TOO_LARGE:
      return new MessageTooLargeError('the receiver refused the message as too large')
    case REJECT_BUSY:
      return new ReceiverBusyError('the receiver dropped the transfer: too many transfers or bytes held')
    case REJECT_INTEGRITY:
      return new IntegrityError('the receiver assembled bytes whose SHA-256 did not match')
    case REJECT_UNKNOWN:
      return new PeerResetError(
        'the receiver lost the transfer (it restarted or dropped it) more often than the sender starts over',
      )
    default:
      return new RejectedError(`the receiver rejected the transfer (reason ${reason})`)
  }
}

function sendTimeout(ms: number): TransferTimeoutError {
  return new TransferTimeoutError(`the send did not complete within ${ms} ms`)
}

function isStart(frame: Uint8Array): boolean {
  return frame[0] === (VERSION_BITS | T_START)
}

function randomU32(): number {
  const a = new Uint32Array(1)
  globalThis.crypto.getRandomValues(a)
  return a[0] as number
}
