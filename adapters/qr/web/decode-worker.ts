/// <reference lib="webworker" />
// The scanner's decoder thread: camera frames in (RGBA), QR code bytes out. zxing-wasm's .wasm is
// served next to this script by `carrier qr serve` — never fetched from a CDN.
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader'

export interface DecodeRequest {
  width: number
  height: number
  data: Uint8ClampedArray
}
export interface DecodeReply {
  bytes?: Uint8Array
  ms: number
  error?: string
}

prepareZXingModule({
  overrides: {
    locateFile: (path: string, prefix: string) =>
      path.endsWith('.wasm') ? new URL('zxing_reader.wasm', self.location.href).href : prefix + path,
  },
  fireImmediately: true,
})

self.onmessage = async (e: MessageEvent<DecodeRequest>) => {
  const t0 = performance.now()
  const { width, height, data } = e.data
  try {
    const results = await readBarcodes(new ImageData(data as Uint8ClampedArray<ArrayBuffer>, width, height), {
      formats: ['QRCode'],
      tryHarder: true,
      maxNumberOfSymbols: 1,
    })
    const hit = results.find((r) => r.isValid)
    const reply: DecodeReply = { ms: performance.now() - t0 }
    if (hit) reply.bytes = new Uint8Array(hit.bytes)
    self.postMessage(reply, reply.bytes ? [reply.bytes.buffer] : [])
  } catch (err) {
    self.postMessage({ ms: performance.now() - t0, error: String(err) } satisfies DecodeReply)
  }
}
