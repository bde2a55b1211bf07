// A file that waited at the mediator (send-file to an offline recipient: docs/FILES.md "Blobs at the
// mediator"), fetched by the wallet page: a token by blob-access, the ciphertext by Range (a cut
// connection resumes at the byte reached), each segment verified and decrypted as it arrives, the
// plaintext's SHA-256 checked, then confirmed so the mediator deletes the blob. The plaintext is
// held as a Blob of decrypted segments (files of tens of MB; over MAX_BYTES is refused).

import { sha256 } from '@noble/hashes/sha2'
import { DIDCommError } from '../../../src/didcomm/errors.js'
import type { Message } from '../../../src/didcomm/pack.js'
import { type EncryptedShare, isEncryptedShare, parseShare } from '../../../src/files/share.js'
import { FileCipherError, StreamOpener } from '../../../src/files/stream-aead.js'
import type { BlobAccessGrant } from '../../../src/protocols/blob-access.js'
import { ProblemReportError } from '../../../src/protocols/report-problem.js'
import { type BlobAccess, BlobHttpError, confirmBlob, downloadBlob } from '../../http/blob-client.js'

/** Largest plaintext the page takes in memory. */
export const MAX_BYTES = 256 * 1024 * 1024

/** A share-media whose encrypted file waits at an http(s) URL (not inline, not over a link). */
export function isWaitingShare(m: Message): boolean {
  try {
    return isEncryptedShare(m) && parseShare(m).links.some((l) => /^https?:/.test(l))
  } catch {
    return false
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/**
 * Downloads, verifies and decrypts the file a share names, then confirms it. Throws FileCipherError
 * (ERR_FILE_INTEGRITY: a segment or the plaintext's hash does not verify; nothing of it is offered),
 * BlobHttpError or ProblemReportError (the mediator refuses: not named, gone).
 */
export async function fetchShared(
  message: Message,
  access: BlobAccess,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ blob: Blob; sha256: string; share: EncryptedShare }> {
  const share = parseShare(message)
  if (share.plainBytes > MAX_BYTES)
    throw new FileCipherError('ERR_FILE_TOO_LARGE', `${share.filename}: ${share.plainBytes} bytes, over ${MAX_BYTES} for a page`)
  const opener = new StreamOpener(share.params, share.cipherBytes)
  const hash = sha256.create()
  const parts: Uint8Array<ArrayBuffer>[] = []
  let bytes = 0
  const take = (plain: Uint8Array) => {
    hash.update(plain)
    parts.push(plain as Uint8Array<ArrayBuffer>)
    bytes += plain.length
  }
  // the grant the download used also serves the confirmation (asked again only once it expired)
  let last: BlobAccessGrant | undefined
  const ask: BlobAccess = async () => (last = await access())
  const again: BlobAccess = async () => {
    const g = last ?? (await access())
    last = undefined
    return g
  }
  for await (const chunk of downloadBlob({ access: ask, size: share.cipherBytes })) {
    for (const plain of opener.push(chunk.bytes)) take(plain)
    onProgress?.(bytes, share.plainBytes)
  }
  take(opener.end())
  const sha = hex(hash.digest())
  if (sha !== share.plainSha256)
    throw new FileCipherError('ERR_FILE_INTEGRITY', `${share.filename}: the decrypted file's SHA-256 is not the one announced`)
  const blob = new Blob(parts, { type: share.mediaType })
  await confirmBlob({ access: again })
  return { blob, sha256: sha, share }
}

/** A failure trying again cannot fix (the share is dropped); others keep it for the next visit. */
export function final(err: unknown): boolean {
  return (
    err instanceof FileCipherError ||
    err instanceof BlobHttpError ||
    err instanceof ProblemReportError ||
    err instanceof DIDCommError
  )
}
