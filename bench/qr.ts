import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  alphanumericCapacity,
  byteCapacity,
  decodeFileFrom,
  decodeFramesFrom,
  decodeQrBytes,
  decodeQrBytesFixed,
  decodeQrBytesWasm,
  encodeFileToDir,
  encodeFramesToDir,
  frameToModules,
  type LuminanceImage,
  QrDisplayLink,
  QrFrameLink,
  UrReceiver,
  urParts,
} from '../adapters/qr/index.js'
import { seededBytes, seededRandom } from '../src/testing/prng.js'
import { codeInScene, degradeQr } from '../src/testing/qr-degrade.js'
import { createTransport } from '../src/wire/create-transport.js'
import { emit, median } from './lib.js'

export async function qrBench(): Promise<void> {
  await decodeRates()
  await payloadEfficiency()
  await framesPerK()
  await encryptedFileCodes()
  await decodeTime720p()
}

/**
 * Codes a camera reads before it has a file, encrypted once (its share's codes interleaved, at
 * least 1 in 16) against the same bytes as one raw stream (`--raw`): 100 KB, v25-L, rendered PNGs
 * read back, 30 % of them missed, joining mid-stream; the same positions for both.
 */
export async function encryptedFileCodes(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-qrfile-'))
  try {
    const data = seededBytes(100 * 1024, 99)
    const o = { version: 25, frames: 600, scale: 2 }
    await encodeFileToDir(data, join(dir, 'file'), { ...o, filename: 'x.bin' })
    await encodeFramesToDir(data, join(dir, 'raw'), o)
    const pick = (folder: string, seed: number) => {
      const rnd = seededRandom(seed)
      const names = readdirSync(join(dir, folder)).sort()
      const start = Math.floor(rnd() * (names.length / 2))
      return names
        .slice(start)
        .filter(() => rnd() >= 0.3)
        .map((n) => join(dir, folder, n))
    }
    const file: number[] = []
    const raw: number[] = []
    const trials = 5
    for (let t = 0; t < trials; t++) {
      const out = join(dir, `out-${t}`)
      file.push((await decodeFileFrom(pick('file', 800 + t), { out: `${out}/` })).codes)
      raw.push((await decodeFramesFrom(pick('raw', 800 + t))).codes)
    }
    emit({
      name: 'qr.file-codes-read.100KB.v25L.loss30.midstream.median',
      value: median(file),
      unit: 'codes read until the file is whole',
      baseline: { name: 'the same bytes as one raw stream (qr encode --raw), same positions', value: median(raw) },
      params: { trials, file, raw },
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Per-frame decode rate on camera-like images (3–6 px/module, ±6°, blur, noise, low contrast):
 * the default decoder (zxing-wasm) against stock @zxing/library on the same images.
 */
async function decodeRates(): Promise<void> {
  for (const version of [20, 25]) {
    const rnd = seededRandom(version * 7)
    const n = 100
    let wasm = 0
    let js = 0
    let fixed = 0
    for (let i = 0; i < n; i++) {
      const frame = seededBytes(byteCapacity(version, 'L'), i)
      const img = degradeQr(frameToModules(frame, { version }), rnd)
      const same = (b: Uint8Array | undefined) => b !== undefined && Buffer.compare(Buffer.from(b), Buffer.from(frame)) === 0
      if (same(await decodeQrBytesWasm(img))) wasm++
      if (same(decodeQrBytes(img))) js++
      if (same(decodeQrBytesFixed(img))) fixed++
    }
    const baseline = { name: 'stock @zxing/library 0.23, same images', value: js / n }
    const params = { images: n }
    emit({ name: `qr.decode-rate.v${version}L.degraded`, value: wasm / n, unit: 'frames decoded / frames', baseline, params })
    const name = `qr.decode-rate.v${version}L.degraded.zxing-js-fixed`
    emit({ name, value: fixed / n, unit: 'frames decoded / frames', baseline, params })
  }
}

/** One message through a QR session: the codes the screen shows, as bytes (no images: the loss is simulated). */
async function sessionCodes(data: Uint8Array, version: number, count: number): Promise<Uint8Array[]> {
  const codes: Uint8Array[] = []
  await createTransport(new QrDisplayLink({ version, show: (c) => void codes.push(c.frame) })).send(data, { frameBudget: count })
  return codes
}

/** Codes a receiver reads before it delivers the message (undefined: the codes ran out). */
async function codesUntilDelivered(codes: Uint8Array[], keep: (i: number) => boolean): Promise<{ read: number; k: number }> {
  const link = new QrFrameLink()
  let k = 0
  const rx = createTransport(link, { onProgress: (p) => (k = p.total) })
  const it = rx.receive()[Symbol.asyncIterator]()
  let done = false
  void it.next().then(() => (done = true))
  let read = 0
  for (let i = 0; i < codes.length && !done; i++) {
    if (!keep(i)) continue
    read++
    link.feedDecoded(codes[i] as Uint8Array)
    await new Promise((r) => setImmediate(r))
  }
  await rx.close()
  if (!done) throw new Error('the codes ran out before the message was decoded')
  return { read, k }
}

/** The largest UR fragment whose part still fits one alphanumeric code of this version. */
function urFragmentFor(data: Uint8Array, version: number): number {
  const cap = alphanumericCapacity(version, 'L')
  let f = Math.floor(cap / 2)
  while (urParts(data, { fragmentLength: f }).next().length > cap) f -= 4
  return f
}

/**
 * Useful payload per code / byte-mode capacity: a 100 KB message read from the first code with no
 * loss — message bytes / (codes read × capacity), so headers, CRCs, START frames and the SHA-256
 * trailer all count as overhead. Baseline: UR parts in alphanumeric codes of the same version.
 */
async function payloadEfficiency(): Promise<void> {
  const data = seededBytes(100 * 1024, 97)
  for (const version of [20, 25, 30, 40]) {
    const cap = byteCapacity(version, 'L')
    const { read } = await codesUntilDelivered(await sessionCodes(data, version, 400), () => true)
    const ur = urParts(data, { fragmentLength: urFragmentFor(data, version) })
    emit({
      name: `qr.payload-efficiency.v${version}L`,
      value: data.length / (read * cap),
      unit: 'useful bytes / byte-mode capacity',
      baseline: { name: 'Blockchain Commons UR parts (alphanumeric), same version', value: data.length / (ur.fragments * cap) },
      params: { message: data.length, codes: read, capacity: cap, urParts: ur.fragments },
    })
  }
}

/** Frames received per K, 100 KB at v25-L, 30 % loss, joining mid-stream: ours and UR's on the same message. */
async function framesPerK(): Promise<void> {
  const data = seededBytes(100 * 1024, 98)
  const version = 25
  const trials = 20
  const codes = await sessionCodes(data, version, 800)
  const ours: number[] = []
  const theirs: number[] = []
  const fragment = urFragmentFor(data, version)
  for (let t = 0; t < trials; t++) {
    const rnd = seededRandom(700 + t)
    const join = 82 + Math.floor(rnd() * 164)
    const r = await codesUntilDelivered(codes, (i) => i >= join && rnd() >= 0.3)
    ours.push(r.read / r.k)
    const ur = urParts(data, { fragmentLength: fragment, firstSeqNum: join })
    const rx = new UrReceiver()
    let read = 0
    while (!rx.complete) {
      const part = ur.next()
      if (rnd() < 0.3) continue
      read++
      rx.receive(part)
    }
    if (Buffer.compare(Buffer.from(rx.result()), Buffer.from(data)) !== 0) throw new Error('UR decode mismatch')
    theirs.push(read / ur.fragments)
  }
  emit({
    name: 'qr.frames-per-k.100KB.v25L.loss30.midstream.median',
    value: median(ours),
    unit: 'codes received / K',
    baseline: { name: 'Blockchain Commons UR (@ngraveio/bc-ur), same message and version', value: median(theirs) },
    params: { trials, max: Math.max(...ours), baselineMax: Math.max(...theirs) },
  })
}

/** A code in the middle of a 1280×720 camera frame (5 px per module, mild blur), as the scanner page sees it. */
function frame720(version: number, seed: number): { img: LuminanceImage; frame: Uint8Array } {
  const frame = seededBytes(byteCapacity(version, 'L'), seed)
  const code = frameToModules(frame, { version })
  const scale = Math.min(5, Math.floor(720 / (code.size + 8)))
  return { img: codeInScene(code, { width: 1280, height: 720, scale }), frame }
}

async function decodeTime720p(): Promise<void> {
  const n = 20
  for (const version of [20, 25]) {
    const frames = Array.from({ length: n }, (_, i) => frame720(version, 300 + i))
    const ms: Record<string, number> = {}
    const ok: Record<string, number> = {}
    const decoders = {
      'zxing-wasm': decodeQrBytesWasm,
      'zxing-js': decodeQrBytes,
      'zxing-js-fixed': decodeQrBytesFixed,
    } as const
    await decodeQrBytesWasm(frames[0]!.img) // load the wasm outside the timing
    for (const [name, decode] of Object.entries(decoders)) {
      const t0 = performance.now()
      let hits = 0
      for (const f of frames) {
        const b = await decode(f.img)
        if (b && Buffer.compare(Buffer.from(b), Buffer.from(f.frame)) === 0) hits++
      }
      ms[name] = (performance.now() - t0) / n
      ok[name] = hits / n
    }
    for (const name of ['zxing-js-fixed', 'zxing-wasm'] as const) {
      emit({
        name: `qr.decode-time.1280x720.v${version}L.${name}`,
        value: ms[name] as number,
        unit: 'ms per frame',
        baseline: { name: 'stock @zxing/library 0.23, same frames', value: ms['zxing-js'] as number },
        params: { frames: n, decoded: ok[name], baselineDecoded: ok['zxing-js'] },
      })
    }
  }
}
