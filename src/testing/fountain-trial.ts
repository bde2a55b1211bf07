import { FountainDecoder, FountainEncoder } from '../wire/fountain/code.js'
import { seededBytes, seededRandom } from './prng.js'

/** Frames a receiver needs when it joins at `join` and the channel loses `loss` of the frames. */
export function fountainTrial(
  k: number,
  symbolSize: number,
  loss: number,
  join: number,
  seed: number,
): { received: number; ok: boolean } {
  const data = seededBytes(k * symbolSize - 3, seed)
  const enc = new FountainEncoder(data, symbolSize, seed)
  const dec = new FountainDecoder(data.length, symbolSize, seed)
  const rnd = seededRandom(seed ^ 0x5bd1e995)
  let received = 0
  for (let id = join; !dec.complete; id++) {
    if (rnd() < loss) continue
    received++
    dec.add(id, enc.symbol(id))
  }
  const out = dec.result()
  return { received, ok: out.length === data.length && out.every((b, i) => b === data[i]) }
}
