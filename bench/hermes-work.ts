/**
 * The work `npm run bench hermes` times, the same code on both engines: under Node in the bench's
 * process and bundled for Hermes by test/hermes/build.ts (entry: bench/hermes-app.ts).
 *
 * Timed with Date.now(): Hermes 0.12's CLI has no `performance` at all and its Date.now() moves in
 * 1 ms steps, so each figure is a batch of at least MIN_BATCH_MS (rounding error ≤ 0.2 %).
 */
import { QrFrameLink } from '../adapters/qr/frame-link.js'
import { createTransport } from '../src/wire/create-transport.js'
import { KINDS, type Kind, kindName, open, pack } from '../test/hermes/scenarios.js'

export const MIN_BATCH_MS = 1000
const MIN_ITERATIONS = 3

/** The envelope kinds measured: authcrypt X25519, anoncrypt P-256, signed (EdDSA). */
export const BENCH_KINDS = KINDS.filter((k) => ['authcrypt-X25519', 'anoncrypt-P-256', 'signed'].includes(kindName(k))) as Kind[]

export interface Timing {
  name: string
  msPerOp: number
  iterations: number
  elapsedMs: number
}

/** One warm-up, then as many runs as fill MIN_BATCH_MS (at least MIN_ITERATIONS). */
async function time(name: string, op: () => Promise<void>): Promise<Timing> {
  await op()
  const t0 = Date.now()
  let iterations = 0
  let elapsedMs = 0
  while (elapsedMs < MIN_BATCH_MS || iterations < MIN_ITERATIONS) {
    await op()
    iterations++
    elapsedMs = Date.now() - t0
  }
  return { name, msPerOp: elapsedMs / iterations, iterations, elapsedMs }
}

/** Pack, then unpack, of each kind's message (useFixtures() first). */
export async function envelopeTimings(): Promise<Timing[]> {
  const out: Timing[] = []
  for (const k of BENCH_KINDS) {
    const packed = await pack(k)
    out.push(await time(`pack.${kindName(k)}`, async () => void (await pack(k))))
    out.push(
      await time(`unpack.${kindName(k)}`, async () => {
        if (!(await open(packed)).message.body) throw new Error('bench: no body')
      }),
    )
  }
  return out
}

/** The QR codes' bytes fed to a scanner's receiving link until the message is out, `bytes` long. */
export async function fountainTiming(frames: Uint8Array[], bytes: number): Promise<Timing> {
  return time('fountain-decode', async () => {
    const link = new QrFrameLink()
    const rx = createTransport(link)
    const got = (async () => {
      for await (const r of rx.receive()) return r
    })()
    for (const f of frames) link.feedDecoded(f)
    const r = await got
    await rx.close()
    if (r?.data.length !== bytes) throw new Error(`bench: decoded ${r?.data.length} bytes, not ${bytes}`)
  })
}
