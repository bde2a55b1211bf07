import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { type Canvas2D, decodeQrBytesWasm, drawModules, frameToModules } from '../../adapters/qr/index.js'
import { seededBytes } from '../../src/testing/prng.js'

/** A raster behind the Canvas2D surface: fillRect paints grey pixels, as a canvas would. */
function raster(width: number, height: number): Canvas2D & { pixels: Uint8Array } {
  const pixels = new Uint8Array(width * height)
  const ctx = {
    canvas: { width, height },
    fillStyle: '#fff' as unknown,
    pixels,
    fillRect(x: number, y: number, w: number, h: number) {
      const v = ctx.fillStyle === '#000' ? 0 : 255
      for (let yy = Math.max(0, y); yy < Math.min(height, y + h); yy++)
        pixels.fill(v, yy * width + Math.max(0, x), yy * width + Math.min(width, x + w))
    },
  }
  return ctx
}

describe('canvas renderer', () => {
  it('draws a code with whole pixels per module, centred, that decodes byte-exact', async () => {
    const frame = seededBytes(1273, 8)
    const code = frameToModules(frame, { version: 25 })
    const ctx = raster(700, 640)
    const scale = drawModules(ctx, code)
    expect(scale).toBe(Math.floor(640 / (code.size + 8)))
    expect(await decodeQrBytesWasm({ width: 700, height: 640, data: ctx.pixels })).toEqual(frame)
    // the quiet zone is white: the first dark pixel of the top-left finder is margin·scale in
    const side = (code.size + 8) * scale
    const x0 = Math.floor((700 - side) / 2) + 4 * scale
    const y0 = Math.floor((640 - side) / 2) + 4 * scale
    expect(ctx.pixels[y0 * 700 + x0]).toBe(0)
    expect(ctx.pixels[y0 * 700 + x0 - 1]).toBe(255)
    expect(ctx.pixels[(y0 - 1) * 700 + x0]).toBe(255)
  })

  it('never draws below one pixel per module on a canvas too small for the code', () => {
    const ctx = raster(50, 50)
    expect(drawModules(ctx, frameToModules(seededBytes(100, 1), { version: 20 }))).toBe(1)
  })
})

describe('carrier qr serve', () => {
  it('serves the pages, the bundles and the .wasm, and nothing else', async () => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/entry.ts', 'qr', 'serve', '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        p.stdout.on('data', (d) => {
          out += d
          if (out.includes('\n')) resolve(out.split('\n')[0] as string)
        })
        p.once('exit', (code) => reject(new Error(`qr serve exited ${code}`)))
      })
      const { url, scanner, sender } = JSON.parse(line) as { url: string; scanner: string; sender: string }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      for (const page of [scanner, sender]) {
        const r = await fetch(page)
        expect(r.headers.get('content-type')).toMatch(/text\/html/)
        expect(await r.text()).toMatch(/<script type="module" src="(scanner|sender)\.js">/)
      }
      const wasm = await fetch(`${url}zxing_reader.wasm`)
      expect(wasm.headers.get('content-type')).toBe('application/wasm')
      expect(new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]))
      expect((await fetch(`${url}decode-worker.js`)).status).toBe(200)
      for (const bad of ['../package.json', '%2e%2e/package.json', 'build.ts', '.hidden.js', 'sub/x.js']) {
        expect((await fetch(`${url}${bad}`)).status, bad).toBe(404)
      }
    } finally {
      p.kill('SIGTERM')
    }
  })
})
