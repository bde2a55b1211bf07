import { createHash, type Hash, randomBytes } from 'node:crypto'
import { link, open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { numberedName, safeFilename } from '../../src/protocols/file-transfer.js'

/** Temporary names start with this; a received name never does (safeFilename strips leading dots). */
export const TEMP_PREFIX = '.carrier-'

const MAX_NUMBERED = 10_000

/**
 * Puts a finished temp file into `dir` under a safe form of `name`, never replacing anything: a
 * hard link fails if the name exists (atomically, unlike a check then a rename), so a second
 * `report.pdf` becomes `report (1).pdf`. Returns the name used; the temp name is removed.
 */
export async function placeNew(dir: string, name: string, tempPath: string, fallback = 'file'): Promise<string> {
  const base = safeFilename(name, fallback)
  for (let n = 0; n < MAX_NUMBERED; n++) {
    const candidate = numberedName(base, n)
    try {
      await link(tempPath, join(dir, candidate))
      await unlink(tempPath)
      return candidate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  throw new Error(`${MAX_NUMBERED} files named like ${base} already in ${dir}`)
}

/** Writes bytes to a temp file in `dir`, then places it as placeNew does. */
export async function writeNew(dir: string, name: string, bytes: Uint8Array, fallback = 'file'): Promise<string> {
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}.tmp`)
  const fh = await open(temp, 'wx')
  try {
    await fh.writeFile(bytes)
  } finally {
    await fh.close()
  }
  try {
    return await placeNew(dir, name, temp, fallback)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
}

/**
 * SHA-256 of a file, read through one reused buffer: a read stream allocates a new buffer per
 * chunk, and a GiB of short-lived buffers is what drives a process's peak RSS up. With `from`,
 * continues `h` (which has hashed the file's first `from` bytes) from there.
 */
export async function sha256File(path: string, from = 0, h: Hash = createHash('sha256')): Promise<string> {
  const fh = await open(path, 'r')
  try {
    const buf = new Uint8Array(1024 * 1024)
    for (let position = from; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, position)
      position += bytesRead
      if (bytesRead === 0) break
      h.update(buf.subarray(0, bytesRead))
    }
  } finally {
    await fh.close()
  }
  return h.digest('hex')
}

export const sha256 = (d: Uint8Array): Uint8Array => createHash('sha256').update(d).digest()
