import FountainDecoderMod from '@ngraveio/bc-ur/dist/fountainDecoder.js'
import FountainEncoderMod from '@ngraveio/bc-ur/dist/fountainEncoder.js'
import { fountainTrial } from '../src/testing/fountain-trial.js'
import { seededBytes, seededRandom } from '../src/testing/prng.js'
import { FountainDecoder, FountainEncoder } from '../src/wire/fountain/code.js'
import { emit, median, quantile } from './lib.js'

// CommonJS default exports seen from ESM
type URPart = object
const UREncoder = (
  FountainEncoderMod as unknown as {
    default: new (
      message: Buffer,
      maxFragmentLength: number,
      firstSeqNum: number,
      minFragmentLength: number,
    ) => {
      fragmentsLength: number
      nextPart(): URPart
    }
  }
).default
const URDecoder = (
  FountainDecoderMod as unknown as {
    default: new () => {
      receivePart(p: URPart): boolean
      isComplete(): boolean
      isSuccess(): boolean
      resultMessage(): Buffer
    }
  }
).default

/** Frames UR's fountain (Blockchain Commons, via @ngraveio/bc-ur) needs under the same conditions. */
function urTrial(k: number, symbolSize: number, loss: number, join: number, seed: number): number {
  const data = Buffer.from(seededBytes(k * symbolSize, seed))
  const enc = new UREncoder(data, symbolSize, join, 10)
  if (enc.fragmentsLength !== k) throw new Error(`UR chose ${enc.fragmentsLength} fragments, not ${k}`)
  const dec = new URDecoder()
  const rnd = seededRandom(seed ^ 0x5bd1e995)
  let received = 0
  while (!dec.isComplete()) {
    const part = enc.nextPart()
    if (rnd() < loss) continue
    received++
    dec.receivePart(part)
  }
  if (!dec.isSuccess() || !dec.resultMessage().equals(data)) throw new Error('UR decode failed')
  return received
}

export async function fountainBench(): Promise<void> {
  // throughput: 1 MB in 1000-byte symbols (a QR v25-L frame holds ~1250 bytes)
  const k = 1000
  const s = 1000
  const data = seededBytes(k * s, 5)
  {
    const enc = new FountainEncoder(data, s, 1)
    const t0 = performance.now()
    for (let id = k; id < 2 * k; id++) enc.symbol(id)
    const ours = performance.now() - t0
    const ur = new UREncoder(Buffer.from(data), s, k, 10)
    const t1 = performance.now()
    for (let i = 0; i < k; i++) ur.nextPart()
    const theirs = performance.now() - t1
    emit({
      name: 'fountain.encode.k1000',
      value: (k * s) / 1e6 / (ours / 1000),
      unit: 'MB/s of repair symbols',
      baseline: { name: 'bc-ur FountainEncoder, same message and fragment size', value: (k * s) / 1e6 / (theirs / 1000) },
    })
  }
  {
    const rnd = seededRandom(9)
    const enc = new FountainEncoder(data, s, 1)
    const symbols: [number, Uint8Array][] = []
    for (let id = k / 2; symbols.length < k + 20; id++) if (rnd() >= 0.3) symbols.push([id, enc.symbol(id)])
    const dec = new FountainDecoder(data.length, s, 1)
    const t0 = performance.now()
    for (const [id, p] of symbols) if (!dec.complete) dec.add(id, p)
    dec.result()
    const ours = performance.now() - t0
    const urEnc = new UREncoder(Buffer.from(data), s, k / 2, 10)
    const rnd2 = seededRandom(9)
    const parts = []
    for (let i = 0; i < 4 * k; i++) {
      const p = urEnc.nextPart()
      if (rnd2() >= 0.3) parts.push(p)
    }
    const urDec = new URDecoder()
    const t1 = performance.now()
    for (const p of parts) {
      if (urDec.isComplete()) break
      urDec.receivePart(p)
    }
    const theirs = performance.now() - t1
    if (!urDec.isSuccess()) throw new Error('UR did not decode within 4K parts')
    emit({
      name: 'fountain.decode.k1000.loss30.midstream',
      value: (k * s) / 1e6 / (ours / 1000),
      unit: 'MB/s',
      baseline: { name: 'bc-ur FountainDecoder, same conditions', value: (k * s) / 1e6 / (theirs / 1000) },
    })
  }
  // reception overhead: frames received minus K
  for (const kk of [100, 1000]) {
    for (const loss of [0, 0.1, 0.3]) {
      for (const joinName of ['start', 'midstream'] as const) {
        const trials = kk === 100 ? 100 : 20
        // UR's decoder takes 20–50 s per K = 1000 trial here, so it gets fewer trials (in params).
        const baselineTrials = kk === 100 ? trials : 1
        const ours: number[] = []
        const theirs: number[] = []
        for (let t = 0; t < trials; t++) {
          const join = joinName === 'start' ? 0 : kk + Math.floor(seededRandom(t)() * 2 * kk)
          const r = fountainTrial(kk, 20, loss, join, 500 + t)
          if (!r.ok) throw new Error('fountain decode mismatch')
          ours.push(r.received - kk)
          if (t < baselineTrials) theirs.push(urTrial(kk, 20, loss, join, 500 + t) - kk)
        }
        const name = `fountain.overhead.k${kk}.loss${loss * 100}.${joinName}`
        emit({
          name: `${name}.median`,
          value: median(ours),
          unit: 'frames beyond K',
          baseline: { name: 'bc-ur fountain, same trials', value: median(theirs) },
          params: { trials, baselineTrials },
        })
        emit({
          name: `${name}.p95`,
          value: quantile(ours, 0.95),
          unit: 'frames beyond K',
          baseline: { name: 'bc-ur fountain, same trials', value: quantile(theirs, 0.95) },
          params: { trials, baselineTrials },
        })
      }
    }
  }
}
