import { createRequire } from 'node:module'
import { concatBytes } from '../../src/wire/bytes.js'
import type { LuminanceImage } from './image.js'

/**
 * QR decoding with @zxing/library, stock or with its finder-pattern selection fixed — one pipeline
 * (binarise → detect → decode, as its QRCodeReader does), two detectors.
 *
 * The fix: stock 0.23 takes the three candidates seen most often, and on dense codes it locks onto
 * false candidates (alignment patterns, data that happens to look 1:1:3:1:1). As Java ZXing ≥ 3.4:
 *  1. cross-check every candidate diagonally too (stock does that only for "pure" barcodes);
 *  2. among all triples of candidates of similar module size, pick the one closest to an isosceles
 *     right triangle: minimise |c² − 2b²| + |c² − 2a²| over its sorted squared side lengths a² ≤ b² ≤ c².
 * (Written here against the library's classes so it can be offered upstream as is.)
 */
const require = createRequire(import.meta.url)
// biome-ignore lint/suspicious/noExplicitAny: the library's internals have no public typings
type Any = any
const lib = (p: string): Any => require(`@zxing/library/cjs/core/${p}`).default
const FinderPatternFinder = lib('qrcode/detector/FinderPatternFinder')
const Detector = lib('qrcode/detector/Detector')
const Decoder = lib('qrcode/decoder/Decoder')
const NotFoundException = lib('NotFoundException')
const BinaryBitmap = lib('BinaryBitmap')
const HybridBinarizer = lib('common/HybridBinarizer')
const LuminanceSource = lib('LuminanceSource')
const DecodeHintType = lib('DecodeHintType')

class FixedFinderPatternFinder extends FinderPatternFinder {
  constructor(...args: Any[]) {
    super(...args)
  }

  handlePossibleCenter(stateCount: number[], i: number, j: number): boolean {
    return super.handlePossibleCenter(stateCount, i, j, true)
  }

  selectBestPatterns(): Any[] {
    const centers: Any[] = [...this.getPossibleCenters()]
    if (centers.length < 3) throw new NotFoundException()
    centers.sort((a: Any, b: Any) => a.getEstimatedModuleSize() - b.getEstimatedModuleSize())
    const d2 = (a: Any, b: Any) => {
      const x = a.getX() - b.getX()
      const y = a.getY() - b.getY()
      return x * x + y * y
    }
    let best: Any[] | undefined
    let distortion = Number.POSITIVE_INFINITY
    for (let i = 0; i < centers.length - 2; i++) {
      const fi = centers[i]
      const minSize = fi.getEstimatedModuleSize()
      for (let j = i + 1; j < centers.length - 1; j++) {
        const fj = centers[j]
        const sij = d2(fi, fj)
        for (let k = j + 1; k < centers.length; k++) {
          const fk = centers[k]
          if (fk.getEstimatedModuleSize() > minSize * 1.4) continue
          const s = [sij, d2(fj, fk), d2(fi, fk)].sort((a, b) => a - b) as [number, number, number]
          const d = Math.abs(s[2] - 2 * s[1]) + Math.abs(s[2] - 2 * s[0])
          if (d < distortion) {
            distortion = d
            best = [fi, fj, fk]
          }
        }
      }
    }
    if (!best) throw new NotFoundException()
    return best
  }
}

class FixedDetector extends Detector {
  constructor(...args: Any[]) {
    super(...args)
  }

  detect(hints: Any): Any {
    this.resultPointCallback = hints?.get(DecodeHintType.NEED_RESULT_POINT_CALLBACK) ?? null
    const info = new FixedFinderPatternFinder(this.getImage(), this.resultPointCallback).find(hints)
    return this.processFinderPatternInfo(info)
  }
}

class GreySource extends LuminanceSource {
  img: LuminanceImage
  constructor(img: LuminanceImage) {
    super(img.width, img.height)
    this.img = img
  }
  getRow(y: number, row?: Uint8ClampedArray): Uint8ClampedArray {
    const out = row && row.length >= this.img.width ? row : new Uint8ClampedArray(this.img.width)
    out.set(this.img.data.subarray(y * this.img.width, (y + 1) * this.img.width))
    return out
  }
  getMatrix(): Uint8ClampedArray {
    return new Uint8ClampedArray(this.img.data.buffer, this.img.data.byteOffset, this.img.data.length)
  }
  isCropSupported(): boolean {
    return false
  }
  isRotateSupported(): boolean {
    return false
  }
}

const hints = new Map([[DecodeHintType.TRY_HARDER, true]])
const decoder = new Decoder()

function decodeWith(DetectorClass: Any, img: LuminanceImage): Uint8Array | undefined {
  try {
    const bitmap = new BinaryBitmap(new HybridBinarizer(new GreySource(img)))
    const detected = new DetectorClass(bitmap.getBlackMatrix()).detect(hints)
    // the byte segments: getText() would mangle binary
    const segments: Uint8Array[] | undefined = decoder.decodeBitMatrix(detected.getBits(), hints).getByteSegments()
    return segments && segments.length > 0 ? concatBytes(segments) : undefined
  } catch {
    return undefined
  }
}

/** The bytes of the QR code in an image with stock @zxing/library, or undefined. */
export function decodeQrBytes(img: LuminanceImage): Uint8Array | undefined {
  return decodeWith(Detector, img)
}

/** The same with the fixed finder-pattern selection. */
export function decodeQrBytesFixed(img: LuminanceImage): Uint8Array | undefined {
  return decodeWith(FixedDetector, img)
}
