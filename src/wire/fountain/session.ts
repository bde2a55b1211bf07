import {
  type CarrierError,
  type Link,
  LinkDownError,
  MessageTooLargeError,
  MtuTooSmallError,
  type Received,
  ReceiverBusyError,
  type SendOptions,
  type SendReport,
  TransferTimeoutError,
  throwIfAborted,
} from '../../transport.js'
import { toHex32 } from '../bytes.js'
import { type ControlFrame, encodeSymbol, MIN_MTU, SYMBOL_OVERHEAD, type T_SYMBOL } from '../frame.js'
import { maxStreamBytes, type ResolvedOptions } from '../options.js'
import { openStream, prepareStream } from '../stream.js'
import { delay, yieldToEventLoop } from '../timing.js'
import { blockCount, FountainDecoder, FountainEncoder } from './code.js'

type SymbolFrame = Extract<ControlFrame, { type: typeof T_SYMBOL }>

const BURST = 32
const FINISHED_MEMORY = 256

/**
 * Simplex links (QR): the sender emits symbols — the K source blocks, then fresh repair symbols —
 * until its signal aborts or its frame budget is spent. Every symbol carries the transfer id and
 * length, so a receiver can join at any time.
 */
export async function sendFountain(
  link: Link,
  options: ResolvedOptions,
  envelope: Uint8Array | string,
  sendOptions: SendOptions,
  tid: number,
): Promise<SendReport> {
  throwIfAborted(sendOptions.signal)
  const started = Date.now()
  const prepared = await prepareStream(envelope, {
    mediaType: sendOptions.mediaType,
    compress: sendOptions.compress ?? options.compress,
    maxMessageBytes: options.maxMessageBytes,
  })
  const symbolSize = link.mtu - SYMBOL_OVERHEAD
  if (link.mtu < MIN_MTU) throw new MtuTooSmallError(`link MTU ${link.mtu} is below the ${MIN_MTU}-byte minimum`)
  const k = blockCount(prepared.length, symbolSize)
  if (k > options.maxFountainBlocks) {
    throw new MessageTooLargeError(`${k} fountain blocks exceed the limit of ${options.maxFountainBlocks}; use larger frames`)
  }
  const encoder = new FountainEncoder(prepared.slice(0, prepared.length), symbolSize, tid)
  const budget = sendOptions.frameBudget ?? Number.POSITIVE_INFINITY
  const total = prepared.length
  let frames = 0
  while (frames < budget) {
    throwIfAborted(sendOptions.signal)
    const frame = encodeSymbol({ tid, flags: prepared.flags, total, symbolId: frames, payload: encoder.symbol(frames) })
    try {
      await link.send(frame, sendOptions.signal)
    } catch (err) {
      if (!(err instanceof LinkDownError)) throw err
      // Nobody is watching right now; keep the stream going once the channel is back.
      await delay(100, sendOptions.signal)
      continue
    }
    frames++
    sendOptions.onProgress?.({ sentBytes: Math.min(total, frames * symbolSize), totalBytes: total })
    if (frames % BURST === 0) await yieldToEventLoop()
  }
  return {
    transferId: toHex32(tid),
    envelopeBytes: prepared.envelopeBytes,
    streamBytes: total,
    compressed: prepared.compressed,
    frames,
    retransmissions: 0,
    confirmed: false,
    durationMs: Date.now() - started,
  }
}

interface Partial {
  decoder: FountainDecoder
  flags: number
  lastActivity: number
}

/** Collects symbols per transfer id, within the same limits as the reliable receiver. */
export class FountainReceiver {
  private readonly partial = new Map<number, Partial>()
  private readonly finished = new Set<number>()
  private held = 0

  constructor(
    private readonly options: ResolvedOptions,
    private readonly deliver: (r: Received) => void | Promise<void>,
    private readonly queuedBytes: () => number,
  ) {}

  get bytesHeld(): number {
    return this.held
  }

  onSymbol(f: SymbolFrame): void {
    if (this.finished.has(f.tid)) return
    const now = Date.now()
    let p = this.partial.get(f.tid)
    if (!p) {
      if (!this.admit(f, now)) return
      p = this.partial.get(f.tid) as Partial
    }
    if (p.flags !== f.flags || p.decoder.total !== f.total) return
    p.lastActivity = now
    if (!p.decoder.add(f.symbolId, f.payload)) return
    this.options.onProgress?.({ transferId: toHex32(f.tid), received: p.decoder.rank, total: p.decoder.k, unit: 'symbols' })
    if (p.decoder.complete) void this.finish(f.tid, p)
  }

  close(): void {
    this.partial.clear()
    this.held = 0
  }

  private admit(f: SymbolFrame, now: number): boolean {
    const id = toHex32(f.tid)
    const k = blockCount(f.total, f.payload.length)
    if (f.total > maxStreamBytes(this.options) || f.total > this.options.maxBytesHeld || k > this.options.maxFountainBlocks) {
      this.options.onDrop?.(new MessageTooLargeError(`fountain transfer of ${f.total} bytes exceeds the limits`), id)
      this.finished.add(f.tid)
      return false
    }
    for (const [tid, q] of this.partial) {
      if (now - q.lastActivity > this.options.partialTtlMs) this.drop(tid, q, new TransferTimeoutError('fountain transfer idle'))
    }
    while (
      this.partial.size >= this.options.maxConcurrentTransfers ||
      this.held + this.queuedBytes() + f.total > this.options.maxBytesHeld
    ) {
      let oldest: [number, Partial] | undefined
      for (const e of this.partial) if (!oldest || e[1].lastActivity < oldest[1].lastActivity) oldest = e
      if (!oldest) return false
      this.drop(oldest[0], oldest[1], new ReceiverBusyError('dropped to make room for a newer transfer'))
    }
    this.partial.set(f.tid, { decoder: new FountainDecoder(f.total, f.payload.length, f.tid), flags: f.flags, lastActivity: now })
    this.held += f.total
    return true
  }

  private drop(tid: number, p: Partial, error: CarrierError): void {
    this.partial.delete(tid)
    this.held -= p.decoder.total
    this.options.onDrop?.(error, toHex32(tid))
  }

  private async finish(tid: number, p: Partial): Promise<void> {
    this.partial.delete(tid)
    this.held -= p.decoder.total
    this.finished.add(tid)
    if (this.finished.size > FINISHED_MEMORY) this.finished.delete(this.finished.values().next().value as number)
    try {
      const opened = await openStream(p.decoder.result(), p.flags, this.options.maxMessageBytes)
      await this.deliver({ data: opened.data, mediaType: opened.mediaType, transferId: toHex32(tid) })
    } catch (err) {
      // A symbol that passed its CRC but was wrong (or a lying sender): forget the id so a clean
      // repetition of the stream can still be decoded.
      this.finished.delete(tid)
      this.options.onDrop?.(err as CarrierError, toHex32(tid))
    }
  }
}
