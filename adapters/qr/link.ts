import type { Link } from '../../src/transport.js'
import { byteCapacity, type Ecc, frameToModules } from './capacity.js'

// the receiving side has no QR code library in it: a React Native scanner's app imports it alone
export { QrFrameLink } from './frame-link.js'

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
