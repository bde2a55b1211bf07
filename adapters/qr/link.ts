import { CarrierError, type Link } from '../../src/transport.js'
import { byteCapacity, type Ecc, frameToModules } from './capacity.js'
import { decodeQrBytes, decodeQrBytesFixed } from './decode.js'
import { decodeQrBytesWasm } from './decode-wasm.js'
import type { LuminanceImage } from './image.js'

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
 * The camera side: feed it images (camera frames, PNG files); every decodable code becomes a frame
 * for the core. Foreign or garbled codes are dropped by the core's checks.
 */
export class QrCameraLink implements Link {
  readonly duplex = false
  readonly mtu = 2953
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private readonly decode: (img: LuminanceImage) => Promise<Uint8Array | undefined> | Uint8Array | undefined
  decoded = 0
  missed = 0

  /**
   * decoder: 'zxing-wasm' (zxing-cpp; the default — 98–99 % of the bench's degraded v20/v25 frames),
   * 'zxing-js-fixed' (@zxing/library with the finder-pattern fix of decode.ts, 43–52 %) or
   * 'zxing-js' (stock @zxing/library, 30–47 %).
   */
  constructor(o: { decoder?: 'zxing-wasm' | 'zxing-js' | 'zxing-js-fixed' } = {}) {
    this.decode =
      o.decoder === 'zxing-js' ? decodeQrBytes : o.decoder === 'zxing-js-fixed' ? decodeQrBytesFixed : decodeQrBytesWasm
  }

  /** Resolves true when the image held a code. */
  async feed(image: LuminanceImage): Promise<boolean> {
    const bytes = await this.decode(image)
    if (!bytes) {
      this.missed++
      return false
    }
    this.decoded++
    for (const h of this.handlers) h(bytes)
    return true
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
