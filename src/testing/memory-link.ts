import { FrameTooLargeError, type Link, LinkClosedError, LinkDownError, throwIfAborted } from '../transport.js'
import { seededRandom } from './prng.js'

export interface MemoryLinkOptions {
  mtu?: number
  duplex?: boolean
  /** Probability that a frame is lost. */
  loss?: number
  /** Probability that a frame is delivered twice. */
  duplicate?: number
  /** Probability that a frame is held back and delivered after the next one. */
  reorder?: number
  /** Probability that one random bit of a frame is flipped. */
  corrupt?: number
  latencyMs?: number
  seed?: number
  /** Frames queued in one direction before send() waits (backpressure). */
  capacity?: number
  /** Declare both ends intact (Link.intact), as a TCP-backed link would. */
  intact?: boolean
}

export interface MemoryLinkPair {
  a: Link
  b: Link
  /** Takes both ends down: frames in flight are lost, send() rejects with ERR_LINK_DOWN. */
  down(): void
  up(): void
  /** down(), then up() after ms. */
  interrupt(ms?: number): Promise<void>
  /** Frames and bytes that entered the link, per direction (a→b, b→a). */
  readonly counters: { frames: [number, number]; bytes: [number, number] }
}

/**
 * Two connected in-memory Links with seeded impairments: for unit and property tests of the core
 * only; adapters are tested on their real stacks.
 */
export function memoryLinkPair(options: MemoryLinkOptions = {}): MemoryLinkPair {
  const rnd = seededRandom(options.seed ?? 1)
  const state = { down: false, closed: false }
  const counters = { frames: [0, 0] as [number, number], bytes: [0, 0] as [number, number] }
  const ab = new Pipe(options, rnd, state)
  const ba = new Pipe(options, rnd, state)
  const a = new MemoryLink(options, ab, ba, state, counters, 0)
  const b = new MemoryLink(options, ba, ab, state, counters, 1)
  const pair: MemoryLinkPair = {
    a,
    b,
    counters,
    down() {
      state.down = true
      ab.clear()
      ba.clear()
    },
    up() {
      state.down = false
      ab.release()
      ba.release()
    },
    async interrupt(ms = 50) {
      pair.down()
      await new Promise((r) => setTimeout(r, ms))
      pair.up()
    },
  }
  return pair
}

type Shared = { down: boolean; closed: boolean }

class Pipe {
  handlers = new Set<(f: Uint8Array) => void>()
  private queue: Uint8Array[] = []
  private held: Uint8Array | undefined
  private scheduled = false
  private readonly capacity: number
  private waiters: (() => void)[] = []

  constructor(
    private readonly o: MemoryLinkOptions,
    private readonly rnd: () => number,
    private readonly state: Shared,
  ) {
    this.capacity = o.capacity ?? 256
  }

  push(frame: Uint8Array): Promise<void> {
    const r = this.rnd
    if (this.o.loss && r() < this.o.loss) return this.backpressure()
    let f = frame.slice()
    if (this.o.corrupt && r() < this.o.corrupt && f.length > 0) {
      const bit = Math.floor(r() * f.length * 8)
      f[bit >> 3] = (f[bit >> 3] as number) ^ (1 << (bit & 7))
    }
    if (this.o.reorder && r() < this.o.reorder && this.held === undefined) {
      this.held = f
    } else {
      this.queue.push(f)
      if (this.held) {
        this.queue.push(this.held)
        this.held = undefined
      }
    }
    if (this.o.duplicate && r() < this.o.duplicate) this.queue.push((f = f.slice()))
    this.schedule()
    return this.backpressure()
  }

  private backpressure(): Promise<void> {
    if (this.queue.length < this.capacity) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    const flush = () => {
      this.scheduled = false
      const batch = this.queue
      this.queue = []
      if (this.held && batch.length === 0) {
        batch.push(this.held)
        this.held = undefined
      }
      for (const w of this.waiters.splice(0)) w()
      for (const f of batch) {
        if (this.state.down || this.state.closed) break
        for (const h of this.handlers) h(f)
      }
      if (this.queue.length > 0 || this.held) this.schedule()
    }
    if (this.o.latencyMs) setTimeout(flush, this.o.latencyMs)
    else setImmediate(flush)
  }

  clear(): void {
    this.queue = []
    this.held = undefined
    this.release()
  }

  release(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}

class MemoryLink implements Link {
  readonly mtu: number
  readonly duplex: boolean
  readonly intact: boolean | undefined

  constructor(
    o: MemoryLinkOptions,
    private readonly out: Pipe,
    private readonly inbound: Pipe,
    private readonly state: Shared,
    private readonly counters: MemoryLinkPair['counters'],
    private readonly dir: 0 | 1,
  ) {
    this.mtu = o.mtu ?? 1024
    this.duplex = o.duplex ?? true
    this.intact = o.intact
  }

  async send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal) // not signal.throwIfAborted(): React Native's AbortSignal has no such method
    if (this.state.closed) throw new LinkClosedError()
    if (this.state.down) throw new LinkDownError()
    if (frame.length > this.mtu) throw new FrameTooLargeError(`frame of ${frame.length} bytes exceeds MTU ${this.mtu}`)
    this.counters.frames[this.dir]++
    this.counters.bytes[this.dir] += frame.length
    return this.out.push(frame)
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.inbound.handlers.add(handler)
    return () => this.inbound.handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.state.closed = true
    this.out.clear()
    this.inbound.clear()
  }
}
