import { PNG } from 'pngjs'

/** A grey image, one byte per pixel (0 black … 255 white): what renderers make and decoders read. */
export interface LuminanceImage {
  width: number
  height: number
  data: Uint8Array
}

/** A module matrix as pixels: `scale` pixels per module, a quiet zone of `margin` modules. */
export function modulesToImage(
  qr: { size: number; modules: Uint8Array },
  o: { scale?: number; margin?: number } = {},
): LuminanceImage {
  const scale = o.scale ?? 4
  const margin = o.margin ?? 4
  const side = (qr.size + 2 * margin) * scale
  const data = new Uint8Array(side * side).fill(255)
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (!qr.modules[y * qr.size + x]) continue
      for (let dy = 0; dy < scale; dy++) {
        const row = ((y + margin) * scale + dy) * side + (x + margin) * scale
        data.fill(0, row, row + scale)
      }
    }
  }
  return { width: side, height: side, data }
}

export function encodePng(img: LuminanceImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height, colorType: 0, inputColorType: 0, inputHasAlpha: false })
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length)
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }))
}

/** Any PNG (grey, RGB, RGBA) to luminance (ITU-R BT.601 weights). */
export function decodePng(bytes: Uint8Array): LuminanceImage {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))
  const n = png.width * png.height
  const data = new Uint8Array(n)
  const rgba = png.data
  for (let i = 0; i < n; i++) {
    const j = i * 4
    data[i] = ((rgba[j] as number) * 299 + (rgba[j + 1] as number) * 587 + (rgba[j + 2] as number) * 114) / 1000
  }
  return { width: png.width, height: png.height, data }
}
