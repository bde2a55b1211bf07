import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { byteCapacity } from '../adapters/qr/capacity.js'
import { QrFrameLink } from '../adapters/qr/frame-link.js'
import { seededBytes, seededRandom } from '../src/testing/prng.js'
import type { Link } from '../src/transport.js'
import { createTransport } from '../src/wire/create-transport.js'
import { buildForHermes, HERMES } from '../test/hermes/build.js'
import { rustFixtures } from '../test/hermes/fixtures.js'
import { useFixtures } from '../test/hermes/scenarios.js'
import { tempDir } from '../test/support/temp.js'
import { envelopeTimings, fountainTiming, MIN_BATCH_MS, type Timing } from './hermes-work.js'
import { emit } from './lib.js'

const QR_VERSION = 25
const BYTES = 100 * 1024

/**
 * The core on Hermes (hermes-engine-cli 0.12, the bundle built as test/hermes builds a React Native
 * app and compiled with -O as a release build's hermesc does) against Node in the same run: the same
 * code (bench/hermes-work.ts), each engine taking its own paths (Node: OpenSSL; Hermes: @noble/*,
 * fflate). Node runs first, then Hermes, one after the other on this machine.
 */
export async function hermesBench(): Promise<void> {
  if (!existsSync(HERMES)) throw new Error(`hermes bench: no ${HERMES} (npm ci installs hermes-engine-cli)`)
  const fixtures = rustFixtures()
  const frames = await qrStream()

  useFixtures(fixtures)
  const node = [...(await envelopeTimings()), await fountainTiming(frames, BYTES)]

  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
  const script = await buildForHermes(new URL('./hermes-app.ts', import.meta.url).pathname, {
    fixtures,
    frames: frames.map(hex),
    bytes: BYTES,
  })
  const file = join(tempDir('carrier-hermes-bench-'), 'app.js')
  writeFileSync(file, script)
  const { stdout } = await promisify(execFile)(HERMES, ['-O', '-Xmicrotask-queue', '-w', file], { maxBuffer: 16 * 1024 * 1024 })
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Timing & { error?: string; done?: boolean })
  const failed = lines.find((l) => l.error)
  if (failed || !lines.at(-1)?.done) throw new Error(`hermes bench: ${failed?.error ?? `no end line in ${stdout.slice(-500)}`}`)

  for (const n of node) {
    const h = lines.find((l) => l.name === n.name)
    if (!h) throw new Error(`hermes bench: Hermes gave no ${n.name}`)
    const fountain = n.name === 'fountain-decode'
    emit({
      name: fountain ? `hermes.fountain-decode.100KB.v${QR_VERSION}L.loss33` : `hermes.${n.name}`,
      value: h.msPerOp,
      unit: fountain ? 'ms per message decoded' : 'ms per message',
      baseline: { name: `Node ${process.version}, same code, same run`, value: n.msPerOp },
      params: {
        iterations: h.iterations,
        nodeIterations: n.iterations,
        minBatchMs: MIN_BATCH_MS,
        clock: 'Date.now (1 ms steps on Hermes)',
        ...(fountain
          ? { framesFed: frames.length }
          : { message: 'test/hermes/scenarios.ts MESSAGE (a basicmessage, 30-byte body)' }),
      },
    })
  }
}

/**
 * A 100 KB message as the codes of a QR v25-L session, a third of them lost (seeded), cut at the
 * code that completes the message: what a scanner reads from the first code on.
 */
async function qrStream(): Promise<Uint8Array[]> {
  const shown: Uint8Array[] = []
  const screen: Link = {
    mtu: byteCapacity(QR_VERSION, 'L'),
    duplex: false,
    send: async (f) => void shown.push(f),
    onFrame: () => () => {},
    close: async () => {},
  }
  await createTransport(screen).send(seededBytes(BYTES, 33), { frameBudget: 400 })
  const rnd = seededRandom(33)
  const kept = shown.filter(() => rnd() >= 1 / 3)
  const link = new QrFrameLink()
  const rx = createTransport(link)
  let done = false
  const got = (async () => {
    for await (const r of rx.receive()) return r
  })().then((r) => {
    done = true
    return r
  })
  const read: Uint8Array[] = []
  for (const f of kept) {
    if (done) break
    read.push(f)
    link.feedDecoded(f)
    await new Promise((r) => setImmediate(r))
  }
  if ((await got)?.data.length !== BYTES) throw new Error('hermes bench: the QR stream did not decode')
  await rx.close()
  return read
}
