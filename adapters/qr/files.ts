import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CarrierError, type Received } from '../../src/transport.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { SYMBOL_OVERHEAD } from '../../src/wire/frame.js'
import { QrCameraLink } from './camera.js'
import { byteCapacity, defaultVersion, type Ecc } from './capacity.js'
import { decodePng, encodePng, modulesToImage } from './image.js'
import { QrDisplayLink } from './link.js'

/** Node: a message as a folder of fountain-coded QR frames (PNG), and back. */

export interface EncodedFrames {
  frames: number
  version: number
  ecc: Ecc
  /** Independent codes a receiver needs (about). */
  symbolsNeeded: number
}

/** Writes frame-00001.png… into `dir`; by default twice what a receiver needs plus 20 (any half decodes). */
export async function encodeFramesToDir(
  data: Uint8Array,
  dir: string,
  o: { frames?: number; version?: number; ecc?: Ecc; scale?: number; onFrame?: (n: number) => void } = {},
): Promise<EncodedFrames> {
  const ecc = o.ecc ?? 'L'
  const version = o.version ?? defaultVersion(data.length)
  const k = Math.ceil((data.length + 300) / (byteCapacity(version, ecc) - SYMBOL_OVERHEAD))
  const frames = o.frames ?? 2 * k + 20
  await mkdir(dir, { recursive: true })
  let n = 0
  const writes: Promise<void>[] = []
  const link = new QrDisplayLink({
    version,
    ecc,
    show: (code) => {
      n++
      writes.push(
        writeFile(join(dir, `frame-${String(n).padStart(5, '0')}.png`), encodePng(modulesToImage(code, { scale: o.scale ?? 4 }))),
      )
    },
  })
  const report = await createTransport(link).send(data, { frameBudget: frames, onProgress: () => o.onFrame?.(n) })
  await Promise.all(writes)
  return { frames: report.frames, version, ecc, symbolsNeeded: k }
}

/** PNG files, and the PNG files of folders (sorted), in order. */
export async function imagesIn(paths: string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    if ((await stat(p)).isDirectory())
      out.push(
        ...(await readdir(p))
          .filter((f) => f.endsWith('.png'))
          .sort()
          .map((f) => join(p, f)),
      )
    else out.push(p)
  }
  return out
}

/** ERR_QR_INCOMPLETE: the codes ran out before the stream was whole. */
export class NotEnoughFramesError extends CarrierError {
  constructor(message: string) {
    super('ERR_QR_INCOMPLETE', message)
  }
}

/** Decodes PNG frames until the message is whole; throws saying how far it got otherwise. */
export async function decodeFramesFrom(
  paths: string[],
  o: { onProgress?: (rank: number, k: number) => void } = {},
): Promise<Received & { codes: number }> {
  const camera = new QrCameraLink()
  let rank = 0
  let k = 0
  const transport = createTransport(camera, {
    onProgress: (p) => {
      rank = p.received
      k = p.total
      o.onProgress?.(rank, k)
    },
  })
  try {
    const done = transport.receive()[Symbol.asyncIterator]().next()
    let finished = false
    void done.then(() => (finished = true))
    for (const image of await imagesIn(paths)) {
      await camera.feed(decodePng(new Uint8Array(await readFile(image))))
      await new Promise((r) => setImmediate(r))
      if (finished) break
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, 200))])
    if (!finished)
      throw new NotEnoughFramesError(
        `not enough frames to decode: ${rank}/${k || '?'} independent symbols from ${camera.decoded} codes`,
      )
    return { ...((await done).value as Received), codes: camera.decoded }
  } finally {
    await transport.close()
  }
}
