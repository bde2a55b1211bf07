import jpeg from 'jpeg-js'
import type { QrCode } from '../../adapters/qr/index.js'
import { codeInScene } from '../../src/testing/qr-degrade.js'

/**
 * A camera's view of an animated QR loop as an MJPEG file (concatenated JPEG frames), the format
 * Chromium's fake camera plays (--use-file-for-fake-video-capture), looping at 30 frames/s.
 * The code is drawn `scale` pixels per module in the middle of a grey 1280×720 scene; `blur` (box
 * radius in pixels) and a low JPEG `quality` make the hard loop.
 */
export function renderMjpegLoop(
  codes: Pick<QrCode, 'size' | 'modules'>[],
  o: { width?: number; height?: number; scale?: number; framesPerCode?: number; blur?: number; quality?: number } = {},
): Uint8Array {
  const width = o.width ?? 1280
  const height = o.height ?? 720
  const scale = o.scale ?? 5
  const quality = o.quality ?? 85
  const parts: Uint8Array[] = []
  for (const code of codes) {
    let grey = codeInScene(code, { width, height, scale }).data
    if (o.blur) grey = boxBlur(grey, width, height, o.blur)
    const rgba = new Uint8Array(width * height * 4)
    for (let i = 0; i < grey.length; i++) {
      const v = grey[i] as number
      rgba[4 * i] = v
      rgba[4 * i + 1] = v
      rgba[4 * i + 2] = v
      rgba[4 * i + 3] = 255
    }
    const jpg = new Uint8Array(jpeg.encode({ data: rgba, width, height }, quality).data)
    for (let i = 0; i < (o.framesPerCode ?? 2); i++) parts.push(jpg)
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function boxBlur(src: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const tmp = new Uint8Array(src.length)
  const out = new Uint8Array(src.length)
  const n = 2 * r + 1
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0
      for (let d = -r; d <= r; d++) s += src[y * w + Math.min(w - 1, Math.max(0, x + d))] as number
      tmp[y * w + x] = s / n
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0
      for (let d = -r; d <= r; d++) s += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x] as number
      out[y * w + x] = s / n
    }
  }
  return out
}
