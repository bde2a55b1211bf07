/**
 * Camera-like damage for QR test images, seeded: 3–6 pixels per module, rotation within ±6°,
 * blur, low contrast and noise. Grey images, one byte per pixel.
 */
export interface GreyImage {
  width: number
  height: number
  data: Uint8Array
}

export function degradeQr(qr: { size: number; modules: Uint8Array }, rnd: () => number): GreyImage {
  const scale = 3 + Math.floor(rnd() * 4)
  const margin = 4
  const side = (qr.size + 2 * margin) * scale
  const angle = ((rnd() * 12 - 6) * Math.PI) / 180
  const out = Math.ceil(side * 1.12)
  const cos = Math.cos(angle)
  const sin = Math.sin(angle)
  const sample = (x: number, y: number): number => {
    const mx = Math.floor(x / scale) - margin
    const my = Math.floor(y / scale) - margin
    if (mx < 0 || my < 0 || mx >= qr.size || my >= qr.size) return 255
    return qr.modules[my * qr.size + mx] ? 0 : 255
  }
  let img = new Float32Array(out * out)
  const c = out / 2
  const cs = side / 2
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) {
      // inverse rotation into the clean render, bilinear
      const sx = cos * (x - c) + sin * (y - c) + cs
      const sy = -sin * (x - c) + cos * (y - c) + cs
      const x0 = Math.floor(sx)
      const y0 = Math.floor(sy)
      const fx = sx - x0
      const fy = sy - y0
      const v =
        sample(x0, y0) * (1 - fx) * (1 - fy) +
        sample(x0 + 1, y0) * fx * (1 - fy) +
        sample(x0, y0 + 1) * (1 - fx) * fy +
        sample(x0 + 1, y0 + 1) * fx * fy
      img[y * out + x] = v
    }
  }
  // blur: a 3×3 box
  const passes = 1
  for (let p = 0; p < passes; p++) {
    const b = new Float32Array(out * out)
    for (let y = 0; y < out; y++) {
      for (let x = 0; x < out; x++) {
        let s = 0
        let n = 0
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx
            const yy = y + dy
            if (xx < 0 || yy < 0 || xx >= out || yy >= out) continue
            s += img[yy * out + xx] as number
            n++
          }
        }
        b[y * out + x] = s / n
      }
    }
    img = b
  }
  const lo = 30 + rnd() * 50
  const hi = 170 + rnd() * 50
  const amp = 8 + rnd() * 17
  const data = new Uint8Array(out * out)
  for (let i = 0; i < data.length; i++) {
    const v = lo + ((hi - lo) * (img[i] as number)) / 255 + (rnd() + rnd() - 1) * amp
    data[i] = Math.max(0, Math.min(255, Math.round(v)))
  }
  return { width: out, height: out, data }
}

/**
 * A camera's clean view of a code: `scale` pixels per module (quiet zone of 4), dark 30 on light 225,
 * in the middle of a grey (90) scene of width × height — what the scanner page sees of a screen.
 */
export function codeInScene(
  qr: { size: number; modules: Uint8Array },
  o: { width: number; height: number; scale: number },
): GreyImage {
  const { width, height, scale } = o
  const data = new Uint8Array(width * height).fill(90)
  const side = (qr.size + 8) * scale
  const x0 = (width - side) >> 1
  const y0 = (height - side) >> 1
  for (let y = 0; y < side; y++) {
    const my = Math.floor(y / scale) - 4
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - 4
      const dark = mx >= 0 && my >= 0 && mx < qr.size && my < qr.size && qr.modules[my * qr.size + mx] === 1
      data[(y0 + y) * width + x0 + x] = dark ? 30 : 225
    }
  }
  return { width, height, data }
}
