import { decodeQrBytes, decodeQrBytesFixed } from './decode.js'
import { decodeQrBytesWasm } from './decode-wasm.js'
import type { LuminanceImage } from './image.js'
import { QrFrameLink } from './link.js'

export type QrDecoderName = 'zxing-wasm' | 'zxing-js' | 'zxing-js-fixed'

/**
 * The camera side: feed it images (camera frames, PNG files); every decodable code becomes a frame
 * for the core.
 */
export class QrCameraLink extends QrFrameLink {
  private readonly decode: (img: LuminanceImage) => Promise<Uint8Array | undefined> | Uint8Array | undefined
  missed = 0

  /**
   * decoder: 'zxing-wasm' (zxing-cpp; the default — 98–99 % of the bench's degraded v20/v25 frames),
   * 'zxing-js-fixed' (@zxing/library with the finder-pattern fix of decode.ts, 43–52 %) or
   * 'zxing-js' (stock @zxing/library, 30–47 %).
   */
  constructor(o: { decoder?: QrDecoderName } = {}) {
    super()
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
    this.feedDecoded(bytes)
    return true
  }
}
