import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Agent, IncomingEnvelope } from '../../src/agent.js'
import { attachmentBytes } from '../../src/didcomm/message.js'
import type { Attachment, Message, UnpackMetadata } from '../../src/didcomm/pack.js'
import { chunkSegments, MEDIA_BLOB, parseChunk } from '../../src/files/blob-chunk.js'
import { type EncryptedShare, isEncryptedShare, parseShare } from '../../src/files/share.js'
import { FileCipherError, TAG_BYTES } from '../../src/files/stream-aead.js'
import {
  FILE_PART,
  type FileOffer,
  type FilePart,
  type FileStatus,
  fromRanges,
  hexOf,
  parseOffer,
  parsePart,
  SHARE_MEDIA,
  safeFilename,
  statusMessage,
  toRanges,
} from '../../src/protocols/file-transfer.js'
import { CarrierError } from '../../src/transport.js'
import { BlobSink } from './blob-sink.js'
import { placeNew, sha256, sha256File, TEMP_PREFIX, writeNew } from './save.js'

/** The link that says "the ciphertext comes over this connection, as blob chunks" (docs/FILES.md). */
export const BLOB_LINK_SCHEME = 'didcomm-blob:'

/** Statuses on their way to one sender at once (FolderReceiver.send). */
const STATUSES_IN_FLIGHT = 4

/**
 * A blob's progress status goes once this many of its chunks arrived since the last one, or
 * STATUS_PAUSE_MS after a chunk when no more come: a status is an authcrypt message each way (pack
 * and deflate here, unpack and inflate at the sender), and one per 512 KiB chunk was ~1.3 s of the
 * two processes' CPU for 256 MB through mosquitto (docs/FILES.md "Measured"). Completion and
 * refusals go at once.
 */
const CHUNKS_PER_STATUS = 4
const STATUS_PAUSE_MS = 5

/** Largest blob chunk taken (a sender makes 1–4 MiB). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024

/** Chunks of one blob that may fail to verify before the receiver refuses the blob. */
const MAX_BAD_CHUNKS = 8

/**
 * A blob chunk the receiver does not take: for a blob no authenticated share announced
 * (ERR_BLOB_UNKNOWN), from another link than the share's (ERR_BLOB_UNKNOWN), too large
 * (ERR_BLOB_CHUNK_TOO_LARGE). Dropped; the listener goes on.
 */
export class BlobChunkRefusedError extends CarrierError {}

export interface FolderReceiverOptions {
  dir: string
  /** Largest file accepted. Default 64 GiB. */
  maxFileBytes?: number
  /** Sum of the sizes of the partial files kept at once. Default 16 GiB. */
  maxPartialBytes?: number
  /** A partial (or finished) transfer untouched for this long is removed. Default 24 h. */
  partialTtlMs?: number
  /** Largest file taken whole in one message (base64 attachment). Default 32 MiB. */
  maxInlineBytes?: number
  now?: () => number
}

export interface ReceivedFile {
  transferId: string
  /** The name it got in the folder (safe, never an existing one's). */
  name: string
  path: string
  /** The name the sender gave. */
  sentName: string | undefined
  bytes: number
  sha256: string
  mediaType: string | undefined
  /** Parts already on disk when this run of the receiver took the transfer over (resume). */
  resumedParts: number
}

export type ReceiverEvent =
  | { kind: 'progress'; transferId: string; name: string; bytes: number; total: number }
  | { kind: 'file'; file: ReceivedFile; message: Message; from: string | undefined; authenticated: boolean }

/** Sends a status back to the sender (a DIDComm message to `to`). */
export type StatusReply = (status: Message, to: string) => Promise<unknown>

export class FileRefusedError extends CarrierError {
  constructor(message: string) {
    super('ERR_FILE_REFUSED', message)
  }
}

interface State {
  version: 1
  offer: FileOffer
  offerMessage: Message
  from: string
  held: [number, number][]
  partSha256: Record<number, string>
  sha256?: string
  /** Parts held when this process loaded the state (resume). */
  resumedParts?: number
}

interface Partial {
  state: State
  held: Set<number>
  fh: FileHandle
  dataPath: string
  statePath: string
  resumedParts: number
}

interface Done {
  name: string
  sha256: string
}

const GIB = 1024 * 1024 * 1024

/**
 * Receives files into a folder: whole-file attachments, and file-transfer parts written in place
 * in a hidden temp file beside the output, with a state file saying which parts are held. A
 * restarted receiver on the same folder answers an offer with what it has on disk (each part
 * re-verified) and the sender sends the rest; the file is renamed into place, under a name that
 * replaces nothing, only once its SHA-256 matches. Nothing from the wire names a path.
 */
export class FolderReceiver {
  private readonly partials = new Map<string, Partial>()
  /**
   * Blobs coming over a link, by their ciphertext's SHA-256, with the id of the share they are
   * told under: a sender restarted on the same blob (send-file's `resumeDir`) shares it again under a
   * new id, and statuses under the old one were ignored by it (it crawled one window per status time-out).
   */
  private readonly blobs = new Map<string, { sink: BlobSink; bad: number; transferId: string }>()
  private readonly replies = new Map<string, { running: number; next?: FileStatus }>()
  /** Blobs whose progress status waits for more chunks or a pause (progressStatus). */
  private readonly statusDue = new Map<string, { chunks: number; timer?: ReturnType<typeof setTimeout>; go: () => void }>()
  /** Status sends in progress, STATUSES_IN_FLIGHT per sender at most: close() waits for them. */
  private readonly sending = new Set<Promise<void>>()
  private readonly o: Required<Omit<FolderReceiverOptions, 'now'>> & { now: () => number }

  constructor(
    options: FolderReceiverOptions,
    private readonly reply: StatusReply,
    private readonly onEvent: (e: ReceiverEvent) => void = () => {},
    private readonly onReplyError: (err: unknown) => void = () => {},
  ) {
    this.o = {
      dir: options.dir,
      maxFileBytes: options.maxFileBytes ?? 64 * GIB,
      maxPartialBytes: options.maxPartialBytes ?? 16 * GIB,
      partialTtlMs: options.partialTtlMs ?? 24 * 3600_000,
      maxInlineBytes: options.maxInlineBytes ?? 32 * 1024 * 1024,
      now: options.now ?? Date.now,
    }
  }

  /** Creates the folder and removes stale temp files. */
  async init(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true })
    await this.sweep()
  }

  /**
   * Handles a message if it is part of a file transfer (returns true), and saves the base64
   * attachments of any other message (returns the names used in `saved`; the caller keeps the
   * message's metadata — `withoutBytes`).
   */
  async handle(message: Message, metadata: UnpackMetadata, envelope?: IncomingEnvelope): Promise<boolean> {
    if (isEncryptedShare(message) && hasBlobLink(message)) {
      await this.onShare(message, metadata, envelope ? linkOf(envelope) : undefined)
      return true
    }
    if (message.type === SHARE_MEDIA && isTransferOffer(message)) {
      await this.onOffer(message, metadata)
      return true
    }
    if (message.type === FILE_PART) {
      await this.onPart(message, metadata)
      return true
    }
    return false
  }

  /**
   * Takes the file messages (shares, parts) and blob chunks that reach `agent`, before its
   * messages() sees them: a share's link identity (the transport's sender) is known only here.
   * Returns the removal.
   */
  attach(agent: Agent): () => void {
    const offHandler = agent.addHandler(({ message, metadata }, envelope) => this.handle(message, metadata, envelope))
    const offMedia = agent.onMedia(MEDIA_BLOB, (r) => this.handleChunk(r.data, linkOf(r)))
    return () => {
      offHandler()
      offMedia()
    }
  }

  /** Saves each base64 attachment (hash checked) as its own file; returns the names it got. */
  async saveAttachments(message: Message): Promise<{ name: string; bytes: number; sentName?: string }[]> {
    const out: { name: string; bytes: number; sentName?: string }[] = []
    for (const a of message.attachments ?? []) {
      if (typeof a.data.base64 !== 'string') continue
      // base64 is 4/3 of the bytes: refuse before decoding
      if ((a.data.base64.length * 3) / 4 > this.o.maxInlineBytes)
        throw new FileRefusedError(`attachment larger than ${this.o.maxInlineBytes} bytes`)
      const bytes = attachmentBytes(a)
      const name = await writeNew(this.o.dir, a.filename ?? '', bytes)
      out.push({ name, bytes: bytes.length, ...(a.filename !== undefined ? { sentName: a.filename } : {}) })
    }
    return out
  }

  /**
   * Waits for the statuses still being sent (each settles: delivered, or failed by the transport's
   * own time-outs), then closes the partial files. A listener that stops right after a file
   * completed thus still tells the sender so (`listen --count`), instead of stranding it.
   */
  async close(): Promise<void> {
    for (const due of [...this.statusDue.values()]) due.go()
    for (const b of this.blobs.values()) await b.sink.close()
    this.blobs.clear()
    // a status that finishes hands its slot to the one waiting behind it: wait until none is left
    while (this.sending.size > 0) await Promise.all(this.sending)
    for (const p of this.partials.values()) await p.fh.close().catch(() => {})
    this.partials.clear()
  }

  private paths(transferId: string) {
    return {
      data: join(this.o.dir, `${TEMP_PREFIX}${transferId}.partial`),
      state: join(this.o.dir, `${TEMP_PREFIX}${transferId}.json`),
      done: join(this.o.dir, `${TEMP_PREFIX}${transferId}.done`),
    }
  }

  /**
   * A part of a transfer this receiver accepted (open here, from the same authenticated sender):
   * asked for by its own status and bounded by its size limits, so a per-sender message quota
   * need not count it (`AgentPolicy.quotaExempt`). Offers and anything else are not.
   */
  expects(message: Message, metadata: UnpackMetadata): boolean {
    if (message.type !== FILE_PART || typeof message.thid !== 'string') return false
    const p = this.partials.get(message.thid)
    return p !== undefined && p.state.from === senderOf(message, metadata)
  }

  /** An authcrypt share-media whose ciphertext comes over this link: answered with the segments held. */
  private async onShare(message: Message, metadata: UnpackMetadata, link: string | undefined): Promise<void> {
    const from = senderOf(message, metadata)
    let share: EncryptedShare
    try {
      share = parseShare(message)
    } catch (err) {
      const id = transferIdOf(message)
      if (id && from) this.send({ transferId: id, held: [], complete: false, refused: (err as Error).message }, from)
      throw err
    }
    if (!from) throw new FileRefusedError('a shared blob needs an authenticated sender: its key is in the share')
    const answer = (s: Omit<FileStatus, 'transferId' | 'answers'>) =>
      this.send({ transferId: share.id, answers: message.id, ...s }, from)
    const refuse = (why: string) => answer({ held: [], complete: false, refused: why })
    const done = await this.doneRecord(share.cipherSha256)
    if (done && done.sha256 === share.plainSha256) return void answer({ held: [[0, segmentsOf(share)]], complete: true })
    if (share.plainBytes > this.o.maxFileBytes) return void refuse('file too large')
    let entry = this.blobs.get(share.cipherSha256)
    if (entry && (entry.sink.state.from !== from || entry.sink.share.plainSha256 !== share.plainSha256))
      return void refuse('blob in use by another sender')
    if (!entry) {
      if (!(await BlobSink.load(this.o.dir, share.cipherSha256))) {
        await this.sweep()
        if (share.plainBytes > this.o.maxPartialBytes - (await this.partialBytes()))
          return void refuse('no room for more partial files')
      }
      const sink = await BlobSink.open(this.o.dir, share, { from, link, extra: { message: withoutKey(message) } })
      entry = { sink, bad: 0, transferId: share.id }
      this.blobs.set(share.cipherSha256, entry)
    } else {
      if (link) entry.sink.state.link = link
      entry.transferId = share.id
    }
    if (entry.sink.complete) return this.finishBlob(share.cipherSha256, answer)
    answer({ held: entry.sink.held(), complete: false })
  }

  /**
   * A blob chunk (unauthenticated bytes): taken only for a blob an authenticated share announced
   * (in memory, or in the folder's state after a restart), from the link that share came by; each
   * segment verified with the share's key before it is written.
   */
  async handleChunk(data: Uint8Array, link?: string): Promise<void> {
    if (data.length > MAX_CHUNK_BYTES + 64)
      throw new BlobChunkRefusedError(
        'ERR_BLOB_CHUNK_TOO_LARGE',
        `blob chunk of ${data.length} bytes (at most ${MAX_CHUNK_BYTES})`,
      )
    const c = parseChunk(data)
    let entry = this.blobs.get(c.blob)
    if (!entry) {
      const state = await BlobSink.load(this.o.dir, c.blob)
      const sink = state ? await BlobSink.resume(this.o.dir, state) : undefined
      if (!sink)
        throw new BlobChunkRefusedError('ERR_BLOB_UNKNOWN', `chunk of blob ${c.blob.slice(0, 16)}…, which no share announced`)
      entry = { sink, bad: 0, transferId: sink.share.id }
      this.blobs.set(c.blob, entry)
    }
    const { sink } = entry
    if (link && sink.state.link && link !== sink.state.link)
      throw new BlobChunkRefusedError(
        'ERR_BLOB_UNKNOWN',
        `chunk of blob ${c.blob.slice(0, 16)}… from another link than its share`,
      )
    const from = sink.state.from
    const blob = entry
    // under the id the blob goes by when the status leaves (a share may come meanwhile: a sender run again)
    const answer = (s: Omit<FileStatus, 'transferId' | 'answers'>) => this.send({ transferId: blob.transferId, ...s }, from)
    const { segmentBytes } = sink.share.params
    try {
      chunkSegments(c.firstSegment, c.sealed.length, sink.share.plainBytes, segmentBytes)
      const added = await sink.write(c.firstSegment * (segmentBytes + TAG_BYTES), c.sealed)
      if (added)
        this.onEvent({
          kind: 'progress',
          transferId: blob.transferId,
          name: safeFilename(sink.share.filename),
          bytes: sink.heldBytes,
          total: sink.share.plainBytes,
        })
    } catch (err) {
      if (!(err instanceof FileCipherError)) throw err
      // a damaged or forged chunk is dropped; a sender that keeps sending them is refused
      if (++entry.bad >= MAX_BAD_CHUNKS) {
        this.blobs.delete(c.blob)
        this.dropStatus(c.blob)
        await sink.discard()
        answer({ held: [], complete: false, refused: `${MAX_BAD_CHUNKS} chunks did not verify: ${err.message}` })
      }
      throw err
    }
    if (sink.complete) return this.finishBlob(c.blob, answer)
    this.progressStatus(c.blob, sink, answer)
  }

  private dropStatus(blob: string): void {
    clearTimeout(this.statusDue.get(blob)?.timer)
    this.statusDue.delete(blob)
  }

  /** What a blob holds, told once CHUNKS_PER_STATUS chunks came since the last status or after a pause. */
  private progressStatus(blob: string, sink: BlobSink, answer: (s: Omit<FileStatus, 'transferId' | 'answers'>) => void): void {
    let due = this.statusDue.get(blob)
    if (!due) {
      const d = {
        chunks: 0,
        timer: undefined as ReturnType<typeof setTimeout> | undefined,
        go: () => {
          clearTimeout(d.timer)
          if (this.statusDue.get(blob) !== d) return
          this.statusDue.delete(blob)
          answer({ held: sink.held(), complete: false })
        },
      }
      due = d
      this.statusDue.set(blob, d)
    }
    if (++due.chunks >= CHUNKS_PER_STATUS) due.go()
    else due.timer ??= setTimeout(due.go, STATUS_PAUSE_MS)
  }

  /** Every segment in: the plaintext checked and renamed into place, the sender told (before the file counts). */
  private async finishBlob(blob: string, answer: (s: Omit<FileStatus, 'transferId' | 'answers'>) => unknown): Promise<void> {
    const entry = this.blobs.get(blob)
    if (!entry) return
    this.blobs.delete(blob)
    // its progress status would only follow the final one
    this.dropStatus(blob)
    const { sink } = entry
    let placed: Awaited<ReturnType<BlobSink['finish']>>
    try {
      placed = await sink.finish()
    } catch (err) {
      answer({ held: [], complete: false, refused: (err as Error).message })
      throw err
    }
    await writeFile(this.paths(blob).done, JSON.stringify({ name: placed.name, sha256: placed.sha256 } satisfies Done))
    // the sender is told first: a listener that stops at this file (--count) waits for that status in close()
    answer({ held: [[0, sink.segments]], complete: true })
    const message = ((sink.state.extra as { message?: Message } | undefined)?.message ?? {}) as Message
    this.onEvent({
      kind: 'file',
      file: {
        transferId: entry.transferId,
        name: placed.name,
        path: placed.path,
        sentName: sink.share.filename,
        bytes: sink.share.plainBytes,
        sha256: placed.sha256,
        mediaType: sink.share.mediaType,
        resumedParts: sink.resumedSegments,
      },
      message: withLinks(message, placed.name),
      from: sink.state.from,
      authenticated: true,
    })
  }

  private async onOffer(message: Message, metadata: UnpackMetadata): Promise<void> {
    const from = senderOf(message, metadata)
    let offer: FileOffer
    try {
      offer = parseOffer(message)
    } catch (err) {
      const id = transferIdOf(message)
      if (id && from) this.send({ transferId: id, held: [], complete: false, refused: (err as Error).message }, from)
      throw err
    }
    if (!from)
      throw new FileRefusedError(
        'a file transfer needs an authenticated sender, to answer it (small files may go anonymously whole)',
      )
    const answer = (s: Omit<FileStatus, 'transferId' | 'answers'>) =>
      this.send({ transferId: offer.transferId, answers: message.id, ...s }, from)
    const done = await this.doneRecord(offer.transferId)
    if (done && done.sha256 === offer.sha256) return void answer({ held: [[0, offer.count]], complete: true })
    if (offer.size > this.o.maxFileBytes) return void answer({ held: [], complete: false, refused: 'file too large' })
    let p: Partial | undefined
    try {
      p = await this.open(offer.transferId, { offer, message, from })
    } catch (err) {
      if (!(err instanceof FileRefusedError)) throw err
      return void answer({ held: [], complete: false, refused: err.message })
    }
    if (p.held.size === offer.count) {
      await this.finishOrRefuse(p, answer)
      return
    }
    answer({ held: toRanges(p.held), complete: false })
  }

  /** Finishes a transfer whose parts are all held; a file that fails its SHA-256 is refused (and discarded). */
  private async finishOrRefuse(p: Partial, answer: (s: Omit<FileStatus, 'transferId' | 'answers'>) => unknown): Promise<void> {
    try {
      await this.finish(p)
    } catch (err) {
      if (err instanceof FileRefusedError) answer({ held: [], complete: false, refused: err.message })
      throw err
    }
    answer({ held: toRanges(p.held), complete: true })
  }

  private async onPart(message: Message, metadata: UnpackMetadata): Promise<void> {
    const from = senderOf(message, metadata)
    if (!from) throw new FileRefusedError('file parts must come from an authenticated sender')
    const part = parsePart(message, sha256)
    const answer = (s: Omit<FileStatus, 'transferId' | 'answers'>) =>
      this.send({ transferId: part.transferId, answers: message.id, ...s }, from)
    const p = this.partials.get(part.transferId) ?? (await this.open(part.transferId).catch(() => undefined))
    if (!p || p.state.from !== from) {
      const done = await this.doneRecord(part.transferId)
      return void answer(done ? { held: [[0, part.count]], complete: true } : { held: [], complete: false, known: false })
    }
    const { offer } = p.state
    try {
      checkPartFits(part, offer, p.state.sha256)
    } catch (err) {
      answer({ held: toRanges(p.held), complete: false, refused: (err as Error).message })
      throw err
    }
    if (!p.held.has(part.index)) {
      await p.fh.write(part.bytes, 0, part.bytes.length, part.offset)
      p.held.add(part.index)
      p.state.partSha256[part.index] = part.partSha256
      if (part.sha256) p.state.sha256 = part.sha256
      await this.saveState(p)
      const bytes = heldBytes(p.held, offer)
      this.onEvent({
        kind: 'progress',
        transferId: offer.transferId,
        name: safeFilename(offer.filename),
        bytes,
        total: offer.size,
      })
    }
    if (p.held.size === offer.count) return this.finishOrRefuse(p, answer)
    answer({ held: toRanges(p.held), complete: false })
  }

  /** The partial transfer: in memory, or loaded from disk (parts re-verified), or new for an offer. */
  private async open(transferId: string, fresh?: { offer: FileOffer; message: Message; from: string }): Promise<Partial> {
    const known = this.partials.get(transferId)
    const paths = this.paths(transferId)
    if (known) {
      if (fresh && known.state.from !== fresh.from) throw new FileRefusedError('transfer id in use by another sender')
      return known
    }
    const saved = await readFile(paths.state, 'utf8')
      .then((t) => JSON.parse(t) as State)
      .catch(() => undefined)
    if (saved && (!fresh || (saved.from === fresh.from && sameOffer(saved.offer, fresh.offer)))) {
      const fh = await open(paths.data, 'r+').catch(() => undefined)
      if (fh) {
        const held = await verifyHeld(fh, saved)
        const p: Partial = { state: saved, held, fh, dataPath: paths.data, statePath: paths.state, resumedParts: held.size }
        this.partials.set(transferId, p)
        await this.saveState(p)
        return p
      }
    }
    if (!fresh) throw new FileRefusedError('no such transfer')
    await this.sweep()
    const room = this.o.maxPartialBytes - (await this.partialBytes())
    if (fresh.offer.size > room) throw new FileRefusedError('no room for more partial files')
    await rm(paths.data, { force: true })
    const fh = await open(paths.data, 'w+')
    const state: State = {
      version: 1,
      offer: fresh.offer,
      offerMessage: withoutBytes(fresh.message),
      from: fresh.from,
      held: [],
      partSha256: {},
      ...(fresh.offer.sha256 ? { sha256: fresh.offer.sha256 } : {}),
    }
    const p: Partial = { state, held: new Set(), fh, dataPath: paths.data, statePath: paths.state, resumedParts: 0 }
    this.partials.set(transferId, p)
    await this.saveState(p)
    return p
  }

  private async finish(p: Partial): Promise<void> {
    const { offer } = p.state
    await p.fh.truncate(offer.size)
    await p.fh.close()
    this.partials.delete(offer.transferId)
    const paths = this.paths(offer.transferId)
    const actual = await sha256File(p.dataPath)
    if (actual !== p.state.sha256) {
      await rm(p.dataPath, { force: true })
      await rm(p.statePath, { force: true })
      throw new FileRefusedError(`${safeFilename(offer.filename)}: SHA-256 of the assembled file does not match; discarded`)
    }
    const name = await placeNew(this.o.dir, offer.filename, p.dataPath)
    await writeFile(paths.done, JSON.stringify({ name, sha256: actual } satisfies Done))
    await rm(p.statePath, { force: true })
    this.onEvent({
      kind: 'file',
      file: {
        transferId: offer.transferId,
        name,
        path: join(this.o.dir, name),
        sentName: offer.filename,
        bytes: offer.size,
        sha256: actual,
        mediaType: offer.mediaType,
        resumedParts: p.resumedParts,
      },
      message: withLinks(p.state.offerMessage, name),
      from: p.state.from || undefined,
      authenticated: p.state.from !== '',
    })
  }

  private async saveState(p: Partial): Promise<void> {
    p.state.held = toRanges(p.held)
    const tmp = `${p.statePath}.tmp`
    await writeFile(tmp, JSON.stringify(p.state))
    // rename is atomic: a receiver killed here keeps the old state or the new, never half of one
    await rename(tmp, p.statePath)
  }

  private async doneRecord(transferId: string): Promise<Done | undefined> {
    return readFile(this.paths(transferId).done, 'utf8')
      .then((t) => JSON.parse(t) as Done)
      .catch(() => undefined)
  }

  /** Removes temp files untouched for longer than the TTL (and stray ones of interrupted writes). */
  private async sweep(): Promise<void> {
    const now = this.o.now()
    for (const name of await readdir(this.o.dir)) {
      // only what transfers leave (carrier listen's .carrier-seen-ids is not one)
      if (!name.startsWith(TEMP_PREFIX) || !/\.(partial|json|done|tmp)$/.test(name)) continue
      const path = join(this.o.dir, name)
      const s = await stat(path).catch(() => undefined)
      if (!s) continue
      const id = name.slice(TEMP_PREFIX.length).replace(/\.[a-z.]+$/, '')
      if (this.partials.has(id) || this.blobs.has(id)) continue
      if (now - s.mtimeMs > this.o.partialTtlMs) await rm(path, { force: true })
    }
  }

  /** Declared sizes of the partial transfers in the folder (a cap on disk, not only in memory). */
  private async partialBytes(): Promise<number> {
    let total = 0
    for (const name of await readdir(this.o.dir)) {
      if (!name.startsWith(TEMP_PREFIX) || !name.endsWith('.json')) continue
      const s = await readFile(join(this.o.dir, name), 'utf8')
        .then((t) => JSON.parse(t) as State & { share?: { plainBytes?: number } })
        .catch(() => undefined)
      total += s?.offer?.size ?? s?.share?.plainBytes ?? 0
    }
    return total
  }

  /**
   * Up to STATUSES_IN_FLIGHT statuses on their way to one sender; a newer one replaces a waiting one
   * (they only grow, and a sender takes them in any order). One at a time, a status waited for the
   * previous one's round trip, and the sender's window ran dry behind statuses 50–200 ms old
   * (traced through mosquitto, docs/FILES.md "Measured").
   */
  private send(s: FileStatus, to: string): void {
    const slot = this.replies.get(to) ?? { running: 0 }
    this.replies.set(to, slot)
    slot.next = s
    this.pump(slot, to)
  }

  private pump(slot: { running: number; next?: FileStatus }, to: string): void {
    while (slot.running < STATUSES_IN_FLIGHT && slot.next) {
      const status = statusMessage(slot.next)
      slot.next = undefined
      slot.running++
      const run: Promise<void> = this.reply(status, to)
        .then(
          () => {},
          (err: unknown) => this.onReplyError(err),
        )
        .finally(() => {
          slot.running--
          this.sending.delete(run)
          this.pump(slot, to)
        })
      this.sending.add(run)
    }
  }
}

function hasBlobLink(m: Message): boolean {
  return (m.attachments ?? []).some((a) => a.data?.links?.some((l) => typeof l === 'string' && l.startsWith(BLOB_LINK_SCHEME)))
}

function segmentsOf(s: EncryptedShare): number {
  return Math.max(1, Math.ceil(s.plainBytes / s.params.segmentBytes))
}

/** The transport's sender of an envelope (an MQTT inbox), when it names one. */
function linkOf(r: IncomingEnvelope): string | undefined {
  const from = (r as { from?: unknown }).from
  return typeof from === 'string' ? from : undefined
}

/** The share as kept in the folder and in the message JSON `carrier listen` writes: without its key. */
function withoutKey(m: Message): Message {
  const items = (m.body?.items as Record<string, unknown>[] | undefined)?.map((i) => {
    const c = i.ciphering as { parameters?: Record<string, unknown> } | undefined
    if (!c?.parameters) return i
    const { key: _key, ...parameters } = c.parameters
    return { ...i, ciphering: { ...c, parameters } }
  })
  return { ...m, body: { ...m.body, ...(items ? { items } : {}) } }
}

function isTransferOffer(m: Message): boolean {
  const items = m.body?.items
  return Array.isArray(items) && items.some((i) => (i as { metadata?: { transfer?: unknown } })?.metadata?.transfer !== undefined)
}

function transferIdOf(m: Message): string | undefined {
  const items = m.body?.items
  const id = Array.isArray(items) ? (items[0] as { '@id'?: unknown })?.['@id'] : undefined
  return typeof id === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(id) ? id : undefined
}

function senderOf(m: Message, metadata: UnpackMetadata): string {
  return metadata.authenticated && m.from ? (m.from.split('#')[0] as string) : ''
}

function sameOffer(a: FileOffer, b: FileOffer): boolean {
  return a.size === b.size && a.partBytes === b.partBytes && a.sha256 === b.sha256 && a.count === b.count
}

function partLength(offer: FileOffer, index: number): number {
  return Math.min(offer.partBytes, offer.size - index * offer.partBytes)
}

function heldBytes(held: Set<number>, offer: FileOffer): number {
  let n = 0
  for (const i of held) n += partLength(offer, i)
  return n
}

function checkPartFits(part: FilePart, offer: FileOffer, sha: string | undefined): void {
  if (part.count !== offer.count || part.size !== offer.size)
    throw new FileRefusedError('part does not belong to the offered file')
  if (part.offset !== part.index * offer.partBytes || part.bytes.length !== partLength(offer, part.index))
    throw new FileRefusedError('part offset or length does not match the offer')
  if (part.sha256 && sha && part.sha256 !== sha) throw new FileRefusedError('part names another file SHA-256')
  if (part.index === offer.count - 1 && !part.sha256 && !sha)
    throw new FileRefusedError('the last part must carry the file SHA-256')
}

/** The parts a state file lists, each re-read and checked against its SHA-256; the others are dropped. */
async function verifyHeld(fh: FileHandle, s: State): Promise<Set<number>> {
  const held = new Set<number>()
  const buf = new Uint8Array(s.offer.partBytes)
  for (const i of fromRanges(s.held, s.offer.count)) {
    const len = partLength(s.offer, i)
    const { bytesRead } = await fh.read(buf, 0, len, i * s.offer.partBytes)
    if (bytesRead === len && hexOf(sha256(buf.subarray(0, len))) === s.partSha256[i]) held.add(i)
  }
  return held
}

/** A copy of a message with its attachments' bytes replaced by nothing but their metadata. */
export function withoutBytes(m: Message): Message {
  if (!m.attachments) return m
  return {
    ...m,
    attachments: m.attachments.map((a): Attachment => {
      const { base64: _bytes, ...data } = a.data
      return { ...a, data }
    }),
  }
}

/** The stored message of a received file: its attachment links to the name the file got. */
function withLinks(m: Message, name: string): Message {
  return {
    ...m,
    attachments: (m.attachments ?? []).map((a) => ({ ...a, data: { ...a.data, links: [encodeURIComponent(name)] } })),
  }
}
