import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader'
import type { LuminanceImage } from './image.js'

/**
 * zxing-cpp (zxing-wasm): the robust decoder for camera-like images. Its .wasm is loaded from the
 * package on disk — never fetched from a CDN, which is what zxing-wasm does unless told otherwise.
 */
let ready: Promise<void> | undefined

function init(): Promise<void> {
  ready ??= (async () => {
    const path = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm')
    const wasm = await readFile(path)
    await prepareZXingModule({
      overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer },
      fireImmediately: true,
    })
  })()
  return ready
}

async function read(img: LuminanceImage) {
  await init()
  const rgba = new Uint8ClampedArray(img.width * img.height * 4)
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i] as number
    rgba[i * 4] = v
    rgba[i * 4 + 1] = v
    rgba[i * 4 + 2] = v
    rgba[i * 4 + 3] = 255
  }
  const imageData = { data: rgba, width: img.width, height: img.height, colorSpace: 'srgb' } as ImageData
  const results = await readBarcodes(imageData, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 })
  return results.find((r) => r.isValid)
}

export async function decodeQrBytesWasm(img: LuminanceImage): Promise<Uint8Array | undefined> {
  const hit = await read(img)
  return hit ? new Uint8Array(hit.bytes) : undefined
}

/** The text of a QR code (UR parts, URLs), or undefined. */
export async function decodeQrTextWasm(img: LuminanceImage): Promise<string | undefined> {
  return (await read(img))?.text
}
