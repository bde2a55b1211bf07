import type { LuminanceSource as LuminanceSourceType } from '@zxing/library'
import ZXing from '@zxing/library'
import { concatBytes } from '../../src/wire/bytes.js'
import type { LuminanceImage } from './image.js'

// @zxing/library is CommonJS whose names Node's ESM loader cannot see: take them from the default export
const { BinaryBitmap, DecodeHintType, HybridBinarizer, LuminanceSource, QRCodeReader, ResultMetadataType } = ZXing

class GreySource extends LuminanceSource {
  constructor(private readonly img: LuminanceImage) {
    super(img.width, img.height)
  }
  getRow(y: number, row?: Uint8ClampedArray): Uint8ClampedArray {
    const out = row && row.length >= this.img.width ? row : new Uint8ClampedArray(this.img.width)
    out.set(this.img.data.subarray(y * this.img.width, (y + 1) * this.img.width))
    return out
  }
  getMatrix(): Uint8ClampedArray {
    return new Uint8ClampedArray(this.img.data.buffer, this.img.data.byteOffset, this.img.data.length)
  }
  override invert(): LuminanceSourceType {
    return new GreySource({ ...this.img, data: this.img.data.map((v) => 255 - v) })
  }
  override isCropSupported(): boolean {
    return false
  }
  override isRotateSupported(): boolean {
    return false
  }
}

const hints = new Map([[DecodeHintType.TRY_HARDER, true]])

/**
 * The bytes of the QR code in an image, from the byte segments (getText() would mangle binary),
 * or undefined when no code is found. Decoder: @zxing/library (stock, for now).
 */
export function decodeQrBytes(img: LuminanceImage): Uint8Array | undefined {
  try {
    const result = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(new GreySource(img))), hints)
    const segments = result.getResultMetadata()?.get(ResultMetadataType.BYTE_SEGMENTS) as Uint8Array[] | undefined
    if (!segments || segments.length === 0) return undefined
    return concatBytes(segments)
  } catch {
    return undefined
  }
}
