import { CarrierError, type Link } from '../../src/transport.js'

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
