import { EventEmitter } from 'node:events'
import { type Link, LinkClosedError, LinkDownError, MessageTooLargeError } from '../../src/transport.js'
import { EomAssembler, eomChunks } from './eom.js'

export type BleProfileName = 'carrier' | 'dif'

export interface GattLinkOptions {
  /** 'carrier' (default): one frame per ATT packet. 'dif': the DIF/Animo layout, messages chunked and ended by EOM. */
  profile?: BleProfileName
  /** dif profile: the largest message accepted from the peer. Default 16 MiB. */
  maxMessageBytes?: number
}

/** Largest frame a dif-profile link hands to the core (each is one EOM-ended message). */
const DIF_FRAME = 64 * 1024

/**
 * What the central and the peripheral share: one frame per ATT packet (the payload of a
 * write-without-response or a notification, ATT MTU − 3), or the DIF chunking; up/down state
 * ('up' and 'down' events; 'refused' with a MessageTooLargeError for an oversized dif message) while the connection comes and goes under the same Link object.
 */
export abstract class GattLink extends EventEmitter implements Link {
  readonly duplex = true
  readonly profile: BleProfileName
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private readonly assembler: EomAssembler
  protected attMtu = 23
  protected closed = false
  private up = false

  constructor(o: GattLinkOptions) {
    super()
    this.profile = o.profile ?? 'carrier'
    this.assembler = new EomAssembler(
      o.maxMessageBytes ?? 16 * 1024 * 1024,
      (m) => this.deliver(m),
      (n) =>
        this.emit(
          'refused',
          new MessageTooLargeError(
            `the peer sent a message of ${n}+ bytes; the limit is ${o.maxMessageBytes ?? 16 * 1024 * 1024}`,
          ),
        ),
    )
  }

  /** The frame size: ATT MTU − 3 (our profile), or a message bound (dif profile). */
  get mtu(): number {
    return this.profile === 'dif' ? DIF_FRAME : this.attMtu - 3
  }

  /** The negotiated ATT MTU of the current connection (23 until negotiated). */
  get negotiatedMtu(): number {
    return this.attMtu
  }

  get isUp(): boolean {
    return this.up
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.profile === 'dif') return this.sendMessage(frame)
    this.checkUp()
    await this.writeChunk(Buffer.from(frame.buffer, frame.byteOffset, frame.length))
  }

  /** dif profile: sends one whole message (any size) as the DIF text says. */
  async sendMessage(message: Uint8Array): Promise<void> {
    this.checkUp()
    for (const chunk of eomChunks(message, this.attMtu - 3))
      await this.writeChunk(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
  }

  private checkUp(): void {
    if (this.closed) throw new LinkClosedError()
    if (!this.up) throw new LinkDownError('the Bluetooth connection is down')
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  /** One ATT packet to the peer (a write, or a notification); a write with response resolves on the response. */
  protected abstract writeChunk(chunk: Buffer): void | Promise<void>

  abstract close(): Promise<void>

  /** One ATT packet from the peer. */
  protected received(chunk: Uint8Array): void {
    if (this.profile === 'carrier') this.deliver(chunk)
    else this.assembler.push(chunk)
  }

  protected setUp(attMtu: number): void {
    this.attMtu = attMtu
    if (this.up) return
    this.up = true
    this.emit('up', attMtu)
  }

  protected setDown(reason: string): void {
    this.assembler.reset()
    if (!this.up) return
    this.up = false
    this.emit('down', reason)
  }

  private deliver(frame: Uint8Array): void {
    for (const h of this.handlers) h(frame)
  }

  /** Waits until the link is up (or rejects when `ms` pass first). */
  waitUp(ms = 10_000): Promise<void> {
    if (this.up) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('up', onUp)
        reject(new LinkDownError(`the Bluetooth connection did not come up in ${ms} ms`))
      }, ms)
      const onUp = () => {
        clearTimeout(t)
        resolve()
      }
      this.once('up', onUp)
    })
  }
}
