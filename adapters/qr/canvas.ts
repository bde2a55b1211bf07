/** The smallest part of CanvasRenderingContext2D the renderer uses (a canvas, an OffscreenCanvas, node-canvas). */
export interface Canvas2D {
  canvas: { width: number; height: number }
  fillStyle: unknown
  fillRect(x: number, y: number, w: number, h: number): void
}

/**
 * Draws a module matrix on a canvas: white background, quiet zone of `margin` modules, the largest
 * whole number of pixels per module that fits (whole pixels keep module edges sharp for cameras).
 * Returns the pixels per module used.
 */
export function drawModules(ctx: Canvas2D, qr: { size: number; modules: Uint8Array }, o: { margin?: number } = {}): number {
  const margin = o.margin ?? 4
  const { width, height } = ctx.canvas
  const units = qr.size + 2 * margin
  const scale = Math.max(1, Math.floor(Math.min(width, height) / units))
  const x0 = Math.floor((width - units * scale) / 2) + margin * scale
  const y0 = Math.floor((height - units * scale) / 2) + margin * scale
  ctx.fillStyle = '#fff'
  ctx.fillRect(0, 0, width, height)
  ctx.fillStyle = '#000'
  for (let y = 0; y < qr.size; y++) {
    // runs of dark modules as one rectangle each: far fewer fillRect calls than one per module
    let x = 0
    while (x < qr.size) {
      if (!qr.modules[y * qr.size + x]) {
        x++
        continue
      }
      const start = x
      while (x < qr.size && qr.modules[y * qr.size + x]) x++
      ctx.fillRect(x0 + start * scale, y0 + y * scale, (x - start) * scale, scale)
    }
  }
  return scale
}
