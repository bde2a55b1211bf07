import { open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BlobAccess, BlobHttpError, confirmBlob, downloadBlob } from '../../adapters/http/blob-client.js'
import type { BackoffOptions } from '../../src/agent/backoff.js'
import type { Message } from '../../src/didcomm/pack.js'
import { type EncryptedShare, parseShare } from '../../src/files/share.js'
import { FileCipherError, StreamOpener, segmentCount, TAG_BYTES } from '../../src/files/stream-aead.js'
import { ProblemReportError } from '../../src/protocols/report-problem.js'
import { CarrierError } from '../../src/transport.js'
import { placeNew, sha256File, TEMP_PREFIX } from './save.js'

/**
 * A file shared by reference (share-media with `ciphering`, its ciphertext at a blob URL) fetched
 * into a folder: downloaded by Range, each segment verified and decrypted as it arrives into a
 * partial file, the plaintext's SHA-256 checked, renamed into place without overwriting anything,
 * then confirmed so the blob's holder deletes it. Resumes: the partial file holds whole verified
 * segments, and the share waits beside it (`.carrier-blob-<hash>.share.json`) until the file is
 * in place, so a restarted receiver continues where its disk ends (pendingShares).
 */

export interface BlobFetchOptions {
  dir: string
  /** The share-media message (authcrypt, from `from`). */
  message: Message
  from?: string
  /** Tokens for this blob (blob-access `get` at the mediator). */
  access: BlobAccess
  /** Largest plaintext accepted. */
  maxFileBytes?: number
  backoff?: BackoffOptions
  onProgress?: (bytes: number, total: number) => void
  onRetry?: (e: { attempt: number; error: unknown; delayMs: number }) => void
  signal?: AbortSignal
}

export interface FetchedBlob {
  /** The name the file got in the folder. */
  name: string
  bytes: number
  sha256: string
  share: EncryptedShare
}

export class BlobFetchError extends CarrierError {}

const base = (s: EncryptedShare) => join(`${TEMP_PREFIX}blob-${s.cipherSha256}`)

/** Share messages whose file is not in place yet (a receiver that stopped during a download). */
export async function pendingShares(dir: string): Promise<{ message: Message; from?: string }[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter(
    (n) => n.startsWith(`${TEMP_PREFIX}blob-`) && n.endsWith('.share.json'),
  )
  const out: { message: Message; from?: string }[] = []
  for (const n of names) {
    try {
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as { message: Message; from?: string })
    } catch {
      await unlink(join(dir, n)).catch(() => {})
    }
  }
  return out
}

function refusedForGood(err: unknown): boolean {
  if (err instanceof BlobHttpError) return err.status === 403 || err.status === 404
  return err instanceof ProblemReportError && /not-named|unknown-blob/.test(err.problemCode)
}

export async function fetchBlob(o: BlobFetchOptions): Promise<FetchedBlob> {
  const share = parseShare(o.message)
  if (o.maxFileBytes !== undefined && share.plainBytes > o.maxFileBytes)
    throw new BlobFetchError('ERR_FILE_TOO_LARGE', `${share.filename}: ${share.plainBytes} bytes, over ${o.maxFileBytes}`)
  const S = share.params.segmentBytes
  const count = segmentCount(share.plainBytes, S)
  const partial = join(o.dir, `${base(share)}.partial`)
  const kept = join(o.dir, `${base(share)}.share.json`)
  await writeFile(kept, JSON.stringify({ message: o.message, from: o.from }), { mode: 0o600 })
  await (await open(partial, 'a', 0o600)).close()
  const fh = await open(partial, 'r+')
  try {
    // whole verified segments stay; a torn last write is cut back to a segment boundary
    const have = (await fh.stat()).size
    const done = have === share.plainBytes && have > 0
    const first = done ? count : Math.floor(Math.min(have, share.plainBytes) / S)
    let written = done ? have : first * S
    await fh.truncate(written)
    if (first < count) {
      const opener = new StreamOpener(share.params, share.cipherBytes, first)
      const write = async (plain: Uint8Array) => {
        if (plain.length === 0) return
        await fh.write(plain, 0, plain.length, written)
        written += plain.length
      }
      for await (const { bytes } of downloadBlob({
        access: o.access,
        size: share.cipherBytes,
        start: first * (S + TAG_BYTES),
        backoff: o.backoff,
        onRetry: o.onRetry,
        signal: o.signal,
      })) {
        for (const plain of opener.push(bytes)) await write(plain)
        o.onProgress?.(written, share.plainBytes)
      }
      await write(opener.end())
      await fh.datasync()
    }
  } catch (err) {
    // what cannot be the file (a segment that does not verify) is gone, and so is a share the
    // mediator refuses for good (not named, expired, deleted): a restart would only fail again
    if (err instanceof FileCipherError || refusedForGood(err))
      await Promise.all([unlink(partial), unlink(kept)].map((p) => p.catch(() => {})))
    throw err
  } finally {
    await fh.close()
  }
  const sha256 = await sha256File(partial)
  if (sha256 !== share.plainSha256) {
    await Promise.all([unlink(partial), unlink(kept)].map((p) => p.catch(() => {})))
    throw new FileCipherError('ERR_FILE_INTEGRITY', `${share.filename}: the decrypted file's SHA-256 is not the one announced`)
  }
  const bytes = (await stat(partial)).size
  const name = await placeNew(o.dir, share.filename, partial)
  await confirmBlob({ access: o.access, backoff: o.backoff, onRetry: o.onRetry, signal: o.signal })
  await unlink(kept).catch(() => {})
  return { name, bytes, sha256, share }
}
