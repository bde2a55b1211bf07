import { createHash } from 'node:crypto'
import { type FileHandle, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EncryptedShare } from '../../src/files/share.js'
import { FileCipherError, segmentCount, segmentSpan, TAG_BYTES } from '../../src/files/stream-aead.js'
import { fromRanges, toRanges } from '../../src/protocols/file-transfer.js'
import { placeNew, sha256File, TEMP_PREFIX } from './save.js'
import { openSealed } from './seal.js'

/** What a sink keeps on disk beside its partial file (0600: it holds the content key). */
export interface BlobSinkState {
  version: 2
  share: StoredShare
  /** Whoever the bytes were accepted from (the share's authenticated sender), and the link they come by. */
  from: string
  link?: string
  /** Segments decrypted and written, as [start, end) ranges. */
  held: [number, number][]
  /** Anything the owner keeps with the transfer (the share message, without its key). */
  extra?: unknown
}

type StoredShare = Omit<EncryptedShare, 'params'> & { params: { key: string; prefix: string; segmentBytes: number } }

export interface BlobSinkFinished {
  name: string
  path: string
  sha256: string
}

/** Plaintext a sink writes between two saves of which segments it holds (BlobSink.saveSoon). */
export const SAVE_EVERY_BYTES = 2 * 1024 * 1024

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))

/**
 * Decrypts an encrypted blob (docs/FILES.md, format 1) into a partial file as its ciphertext
 * arrives in any order, keeps which segments it holds in a state file (temp + rename, so a kill
 * leaves the old state or the new), and once every segment is there checks the plaintext's SHA-256
 * and only then renames the file into place (never over an existing name). A segment's bytes are
 * written only after its tag verified. Used for blobs over a Link (FolderReceiver) and for blobs
 * fetched by HTTP `Range` (the same `write(offset, bytes)`).
 *
 * Files in `dir`: `.carrier-<ciphertext sha256>.partial` and `.json`.
 */
export class BlobSink {
  private readonly heldSet: Set<number>
  private readonly count: number
  private readonly sealedBytes: number
  /** A segment's bytes that arrived without its end (a stream cut mid-segment): continued by the next write at `carry.end`. */
  private carry?: { offset: number; bytes: Uint8Array }
  private chain: Promise<unknown> = Promise.resolve()
  /** Segments written since the state was last saved. */
  private unsaved = 0
  /** Segments held when this sink was opened (a resume). */
  readonly resumedSegments: number
  /**
   * The plaintext's SHA-256 over segments [0, hashed), fed as segments are written in order:
   * finish() reads back only what came out of order (a resume, a resend), not the whole file —
   * reading 256 MB back held the sender's "complete" ~0.25 s (docs/FILES.md "Measured").
   */
  private readonly plainHash = createHash('sha256')
  private hashed = 0

  private constructor(
    readonly share: EncryptedShare,
    readonly state: BlobSinkState,
    private readonly fh: FileHandle,
    readonly paths: { data: string; state: string },
    private readonly dir: string,
  ) {
    this.count = segmentCount(share.plainBytes, share.params.segmentBytes)
    this.sealedBytes = share.params.segmentBytes + TAG_BYTES
    this.heldSet = fromRanges(state.held, this.count)
    this.resumedSegments = this.heldSet.size
  }

  static paths(dir: string, blob: string): { data: string; state: string } {
    return { data: join(dir, `${TEMP_PREFIX}${blob}.partial`), state: join(dir, `${TEMP_PREFIX}${blob}.json`) }
  }

  /** The state a folder holds for a blob, if any (its key included). */
  static async load(dir: string, blob: string): Promise<BlobSinkState | undefined> {
    const s = await readFile(BlobSink.paths(dir, blob).state, 'utf8')
      .then((t) => JSON.parse(t) as BlobSinkState)
      .catch(() => undefined)
    return s?.version === 2 && s.share?.cipherSha256 === blob ? s : undefined
  }

  /**
   * Opens the partial blob named by the share's ciphertext hash: resumed from the folder when its
   * state names the same share (same key and sizes) and the same sender, else started empty.
   */
  static async open(dir: string, share: EncryptedShare, o: { from: string; link?: string; extra?: unknown }): Promise<BlobSink> {
    const paths = BlobSink.paths(dir, share.cipherSha256)
    const saved = await BlobSink.load(dir, share.cipherSha256)
    if (saved && saved.from === o.from && sameShare(saved.share, share)) {
      const fh = await open(paths.data, 'r+').catch(() => undefined)
      if (fh) {
        const sink = new BlobSink(share, { ...saved, ...(o.link ? { link: o.link } : {}) }, fh, paths, dir)
        await sink.save()
        return sink
      }
    }
    await rm(paths.data, { force: true })
    const fh = await open(paths.data, 'w+', 0o600)
    const state: BlobSinkState = {
      version: 2,
      share: storedShare(share),
      from: o.from,
      ...(o.link ? { link: o.link } : {}),
      held: [],
      ...(o.extra !== undefined ? { extra: o.extra } : {}),
    }
    const sink = new BlobSink(share, state, fh, paths, dir)
    await sink.save()
    return sink
  }

  /** Re-opens a blob from its saved state alone (a chunk after a restart, before any new share). */
  static async resume(dir: string, state: BlobSinkState): Promise<BlobSink | undefined> {
    const paths = BlobSink.paths(dir, state.share.cipherSha256)
    const fh = await open(paths.data, 'r+').catch(() => undefined)
    return fh ? new BlobSink(shareOf(state.share), state, fh, paths, dir) : undefined
  }

  get segments(): number {
    return this.count
  }

  /** Segments held, as [start, end) ranges. */
  held(): [number, number][] {
    return toRanges(this.heldSet)
  }

  has(segment: number): boolean {
    return this.heldSet.has(segment)
  }

  get complete(): boolean {
    return this.heldSet.size === this.count
  }

  /** Plaintext bytes held. */
  get heldBytes(): number {
    const S = this.share.params.segmentBytes
    let n = this.heldSet.size * S
    if (this.heldSet.has(this.count - 1)) n -= this.count * S - this.share.plainBytes
    return n
  }

  /**
   * Ciphertext bytes at `offset` (a segment boundary, or where the previous write stopped inside a
   * segment): each whole segment is verified, decrypted and written at its plaintext offset. A
   * segment that does not verify is ERR_FILE_INTEGRITY and nothing of it is written (the segments
   * before it in the same call are). Resolves to the number of segments newly held.
   */
  write(offset: number, bytes: Uint8Array): Promise<number> {
    const run = this.chain.then(() => this.writeNow(offset, bytes))
    this.chain = run.catch(() => {})
    return run
  }

  private async writeNow(offset: number, bytes: Uint8Array): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new FileCipherError('ERR_FILE_FORMAT', `bad offset ${offset}`)
    if (offset + bytes.length > this.share.cipherBytes)
      throw new FileCipherError('ERR_FILE_INTEGRITY', `ciphertext past the ${this.share.cipherBytes} bytes announced`)
    if (this.carry && offset === this.carry.offset + this.carry.bytes.length) {
      bytes = Buffer.concat([this.carry.bytes, bytes])
      offset = this.carry.offset
    }
    this.carry = undefined
    if (offset % this.sealedBytes !== 0)
      throw new FileCipherError('ERR_FILE_FORMAT', `offset ${offset} is not at a segment boundary`)
    const S = this.share.params.segmentBytes
    let index = offset / this.sealedBytes
    let at = 0
    let added = 0
    // verified segments in a row, written together with one writev
    let run: { at: number; parts: Uint8Array[]; indexes: number[] } | undefined
    const flush = async () => {
      if (!run) return
      const { at: position, parts, indexes } = run
      run = undefined
      await this.fh.writev(parts, position)
      for (const i of indexes) this.heldSet.add(i)
      added += indexes.length
      if (indexes[0] === this.hashed) {
        for (const p of parts) this.plainHash.update(p)
        this.hashed += parts.length
      }
    }
    try {
      while (at < bytes.length) {
        const span = segmentSpan(index, this.share.plainBytes, S)
        if (bytes.length - at < span.length) {
          this.carry = { offset: offset + at, bytes: bytes.slice(at) }
          break
        }
        if (this.heldSet.has(index)) await flush()
        else {
          const plain = openSealed(this.share.params, index, span.last, bytes.subarray(at, at + span.length))
          run ??= { at: index * S, parts: [], indexes: [] }
          run.parts.push(plain)
          run.indexes.push(index)
        }
        at += span.length
        index++
      }
    } finally {
      // what verified before a segment that did not is written all the same
      await flush()
      if (added) await this.saveSoon(added)
    }
    return added
  }

  /**
   * Every segment held: the plaintext's SHA-256 is checked, then the file is renamed into place
   * under a safe form of `name` (default: the share's filename) that replaces nothing. A mismatch
   * is ERR_FILE_INTEGRITY; the partial is discarded and nothing is placed.
   */
  finish(name = this.share.filename): Promise<BlobSinkFinished> {
    const run = this.chain.then(async () => {
      if (!this.complete)
        throw new FileCipherError('ERR_FILE_INTEGRITY', `blob incomplete: ${this.heldSet.size} of ${this.count} segments`)
      await this.fh.truncate(this.share.plainBytes)
      await this.fh.close()
      const actual = await sha256File(this.paths.data, this.hashed * this.share.params.segmentBytes, this.plainHash)
      if (actual !== this.share.plainSha256) {
        await this.discardFiles()
        throw new FileCipherError(
          'ERR_FILE_INTEGRITY',
          `the decrypted file's SHA-256 does not match the one its share announced; discarded`,
        )
      }
      const placed = await placeNew(this.dir, name, this.paths.data)
      await rm(this.paths.state, { force: true })
      return { name: placed, path: join(this.dir, placed), sha256: actual }
    })
    this.chain = run.catch(() => {})
    return run
  }

  /** Closes the partial file, keeping it for a resume. */
  async close(): Promise<void> {
    await this.chain
    if (this.unsaved > 0) await this.save().catch(() => {})
    await this.fh.close().catch(() => {})
  }

  /** Closes and removes the partial and its state. */
  async discard(): Promise<void> {
    await this.close()
    await this.discardFiles()
  }

  private async discardFiles(): Promise<void> {
    await rm(this.paths.data, { force: true })
    await rm(this.paths.state, { force: true })
  }

  /**
   * Saves the state once SAVE_EVERY_BYTES of plaintext arrived since the last save (a save is three
   * file operations; one per 512 KiB chunk was a tenth of a listener's CPU). A listener killed in
   * between forgets at most those segments and is sent them again: a sender always asks afresh
   * what a restarted receiver holds. close() saves what is pending.
   */
  private async saveSoon(added: number): Promise<void> {
    this.unsaved += added
    if (this.unsaved * this.share.params.segmentBytes >= SAVE_EVERY_BYTES) await this.save()
  }

  private async save(): Promise<void> {
    this.unsaved = 0
    this.state.held = toRanges(this.heldSet)
    const tmp = `${this.paths.state}.tmp`
    await writeFile(tmp, JSON.stringify(this.state), { mode: 0o600 })
    // rename is atomic: a receiver killed here keeps the old state or the new, never half of one
    await rename(tmp, this.paths.state)
  }
}

function storedShare(s: EncryptedShare): StoredShare {
  return { ...s, params: { key: hex(s.params.key), prefix: hex(s.params.prefix), segmentBytes: s.params.segmentBytes } }
}

function shareOf(s: StoredShare): EncryptedShare {
  return { ...s, params: { key: unhex(s.params.key), prefix: unhex(s.params.prefix), segmentBytes: s.params.segmentBytes } }
}

function sameShare(a: StoredShare, b: EncryptedShare): boolean {
  return (
    a.cipherSha256 === b.cipherSha256 &&
    a.plainSha256 === b.plainSha256 &&
    a.plainBytes === b.plainBytes &&
    a.params.key === hex(b.params.key) &&
    a.params.prefix === hex(b.params.prefix) &&
    a.params.segmentBytes === b.params.segmentBytes
  )
}
