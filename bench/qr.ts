import { byteCapacity, decodeQrBytes, decodeQrBytesFixed, decodeQrBytesWasm, frameToModules } from '../adapters/qr/index.js'
import { seededBytes, seededRandom } from '../src/testing/prng.js'
import { degradeQr } from '../src/testing/qr-degrade.js'
import { emit } from './lib.js'

/**
 * Per-frame decode rate on camera-like images (3–6 px/module, ±6°, blur, noise, low contrast):
 * the default decoder (zxing-wasm) against stock @zxing/library on the same images.
 */
export async function qrBench(): Promise<void> {
  for (const version of [20, 25]) {
    const rnd = seededRandom(version * 7)
    const n = 100
    let wasm = 0
    let js = 0
    let fixed = 0
    let wasmMs = 0
    let jsMs = 0
    for (let i = 0; i < n; i++) {
      const frame = seededBytes(byteCapacity(version, 'L'), i)
      const img = degradeQr(frameToModules(frame, { version }), rnd)
      const same = (b: Uint8Array | undefined) => b !== undefined && Buffer.compare(Buffer.from(b), Buffer.from(frame)) === 0
      let t = performance.now()
      if (same(await decodeQrBytesWasm(img))) wasm++
      wasmMs += performance.now() - t
      t = performance.now()
      if (same(decodeQrBytes(img))) js++
      jsMs += performance.now() - t
      if (same(decodeQrBytesFixed(img))) fixed++
    }
    emit({
      name: `qr.decode-rate.v${version}L.degraded`,
      value: wasm / n,
      unit: 'frames decoded / frames',
      baseline: { name: 'stock @zxing/library 0.23, same images', value: js / n },
      params: { images: n, msPerFrame: Math.round(wasmMs / n), msPerFrameBaseline: Math.round(jsMs / n) },
    })
    emit({
      name: `qr.decode-rate.v${version}L.degraded.zxing-js-fixed`,
      value: fixed / n,
      unit: 'frames decoded / frames',
      baseline: { name: 'stock @zxing/library 0.23, same images', value: js / n },
      params: { images: n },
    })
  }
}
