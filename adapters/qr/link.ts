import { CarrierError, type Link } from '../../src/transport.js'
import { byteCapacity, type Ecc, frameToModules } from './capacity.js'

export interface QrCode {
  /** The frame the code carries. */
  frame: Uint8Array
  size: number
  modules: Uint8Array
  version: number
}

/**
 * The screen side: a simplex Link whose frames become QR codes, one per code, byte mode, one
 * version per session. `show` draws a code and resolves when the next one may be drawn (the
 * frame rate is the backpressure). The core's fountain session does the coding.
 */
export class QrDisplayLink implements Link {
  readonly duplex = false
  readonly mtu: number
  private closed = false

  constructor(
    private readonly o: { version: number; ecc?: Ecc; show: (code: QrCode, signal?: AbortSignal) => Promise<void> | void },
  ) {
    this.mtu = byteCapacity(o.version, o.ecc ?? 'L')
  }

  async send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.closed) return
    const { size, modules } = frameToModules(frame, { version: this.o.version, ecc: this.o.ecc })
    await this.o.show({ frame, size, modules, version: this.o.version }, signal)
  }

  onFrame(): () => void {
    return () => {}
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

/**
 * The receiving side fed with codes that were already decoded (a browser Worker, a native scanner):
 * each code's bytes become a frame for the core. Foreign or garbled codes are dropped by the core's
 * checks. QrCameraLink (camera.ts) adds image decoding on top.
 */
export class QrFrameLink implements Link {
  readonly duplex = false
  readonly mtu = 2953
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  decoded = 0

  /** One decoded code's bytes. */
  feedDecoded(bytes: Uint8Array): void {
    this.decoded++
    for (const h of this.handlers) h(bytes)
  }

  async send(): Promise<void> {
    throw new CarrierError('ERR_SIMPLEX', 'a camera link only receives')
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.handlers.clear()
  }
}
