import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { checkParams, type StreamParams } from '../../src/files/stream-aead.js'

/**
 * What a sender keeps so that `send-file` run again after its own restart sends the same blob
 * (same key, nonce prefix and so the same ciphertext) and the receiver resumes from the segments it
 * holds: the stream parameters and the hashes, in a 0600 file of a 0700 folder, until the receiver
 * confirms the file. It holds a content key, so it is kept like an identity file. A file whose bytes
 * changed under the same name, size and time is detected by its plaintext hash and gets a fresh key:
 * a key never seals two different plaintexts that leave the process.
 */
export interface SendState {
  version: 1
  key: string
  prefix: string
  segmentBytes: number
  plainSha256: string
  cipherSha256: string
  cipherBytes: number
}

/** Send states untouched this long are removed (the receiver's partials expire after 24 h too). */
const SEND_STATE_TTL_MS = 24 * 60 * 60 * 1000

/** The state file of one (recipient, file) pair: the file named by its path, size and modification time. */
export async function sendStateFile(dir: string, to: string, path: string): Promise<string> {
  const s = await stat(path)
  const id = createHash('sha256')
    .update(JSON.stringify([to.split('#')[0], resolve(path), s.size, s.mtimeMs]))
    .digest('hex')
  return join(dir, `${id}.json`)
}

export async function loadSendState(file: string): Promise<SendState | undefined> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as SendState
    if (s.version !== 1) return undefined
    checkParams(paramsOf(s))
    return s
  } catch {
    return undefined // none, or not ours: a fresh key
  }
}

export function paramsOf(s: SendState): StreamParams {
  return { key: Buffer.from(s.key, 'hex'), prefix: Buffer.from(s.prefix, 'hex'), segmentBytes: s.segmentBytes }
}

export async function saveSendState(
  file: string,
  p: StreamParams,
  h: { plain: string; cipher: string; cipherBytes: number },
): Promise<void> {
  const dir = join(file, '..')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await sweep(dir)
  const s: SendState = {
    version: 1,
    key: Buffer.from(p.key).toString('hex'),
    prefix: Buffer.from(p.prefix).toString('hex'),
    segmentBytes: p.segmentBytes,
    plainSha256: h.plain,
    cipherSha256: h.cipher,
    cipherBytes: h.cipherBytes,
  }
  const tmp = `${file}.tmp`
  await writeFile(tmp, JSON.stringify(s), { mode: 0o600 })
  await rename(tmp, file)
}

async function sweep(dir: string): Promise<void> {
  const now = Date.now()
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const f = join(dir, name)
    const s = await stat(f).catch(() => undefined)
    if (s && now - s.mtimeMs > SEND_STATE_TTL_MS) await rm(f, { force: true })
  }
}
