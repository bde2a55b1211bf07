import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Agent, AgentSendOptions } from '../../src/agent.js'
import { BLOB_CHUNK_HEADER, MEDIA_BLOB, writeChunkHeader } from '../../src/files/blob-chunk.js'
import { shareMessage } from '../../src/files/share.js'
import {
  DEFAULT_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  newStreamParams,
  type StreamParams,
  segmentCount,
  segmentSpan,
  TAG_BYTES,
} from '../../src/files/stream-aead.js'
import { FILE_STATUS, type FileStatus, fromRanges, parseStatus } from '../../src/protocols/file-transfer.js'
import { AbortError, CarrierError, RejectedError, TransferTimeoutError } from '../../src/transport.js'
import { BLOB_LINK_SCHEME } from './folder-receiver.js'
import { HeapRoom } from './heap-room.js'
import { sealInto } from './seal.js'
import { loadSendState, paramsOf, saveSendState, sendStateFile } from './send-state.js'

/** A path, or a stream of known size (spooled to a temp file first: its hashes go in the share). */
export type FileSource = string | { stream: AsyncIterable<Uint8Array>; size: number; filename: string }

export interface FileProgress {
  /** Plaintext bytes the receiver has confirmed on disk. */
  ackedBytes: number
  totalBytes: number
  /** Ciphertext bytes put on the wire so far, resends included. */
  sentBytes: number
  /** File bytes read and sealed so far: the hashing pass, then every chunk (a budget for garbage collection). */
  readBytes: number
}

export interface SendFileOptions extends Omit<AgentSendOptions, 'returnRoute' | 'onProgress' | 'compress'> {
  filename?: string
  mediaType?: string
  /** File bytes per chunk (one wire transfer of their sealed segments), rounded down to whole segments. Default 512 KiB. */
  partBytes?: number
  /** Plaintext bytes per sealed segment (docs/FILES.md format 1). Default 64 KiB, or `partBytes` when smaller. */
  segmentBytes?: number
  /**
   * Chunks sent and not yet confirmed on the receiver's disk by its status. Default 8 (4 MiB of
   * 512 KiB chunks): a status takes a round trip (the receiver sends one per 4 chunks), so the
   * window must cover what the link carries meanwhile. Also what a receiver slower than the link
   * may hold in memory, undelivered.
   */
  window?: number
  /** Chunks on the wire at once (each holds its bytes until delivered). Default 4. */
  wireWindow?: number
  /** Time-out of each chunk's wire send. Default 20 s. */
  partTimeoutMs?: number
  /** Ask the receiver again (a new share) after this long without a status while chunks are out. Default 5 s. */
  statusTimeoutMs?: number
  /** Give up after hearing nothing from the receiver for this long. Default 120 s. */
  idleTimeoutMs?: number
  /**
   * A folder where the sender keeps each file's key until the receiver confirms it (adapters/fs/send-state.ts),
   * so a sender run again after its own restart sends the same blob and the receiver resumes. Without it a
   * restarted sender draws a new key and its blob starts over. Paths only. `carrier send-file` passes
   * `--resume-dir` (default `<identity>.sends/`); tested in one process (test/files/send-file-api.test.ts)
   * and with the CLI SIGKILLed and run again (test/files/send-file-restart.test.ts, docs/FILES.md "Resume").
   */
  resumeDir?: string
  onProgress?: (p: FileProgress) => void
}

export interface SendFileResult {
  /** The share's id (the thread of its statuses). */
  transferId: string
  filename: string
  bytes: number
  /** SHA-256 of the plaintext and of the ciphertext (the blob's name), hex. */
  sha256: string
  cipherSha256: string
  segments: number
  /** Chunks of the blob (wire transfers of `partBytes`). */
  parts: number
  /** Chunks the receiver already held when we started (a resume). */
  resumedParts: number
  /** Chunks sent, resends included… */
  partsSent: number
  /** …and the ciphertext bytes of those whose wire send completed. */
  cipherBytesSent: number
  durationMs: number
}

export class FileTransferRefusedError extends RejectedError {}

/**
 * Sends a file as an encrypted blob over the link to the recipient (docs/FILES.md "Blobs over a
 * Link"): a fresh key, the file sealed in segments (format 1), one authcrypt share-media with the
 * key and hashes that asks which segments the receiver holds, then the ciphertext as binary wire
 * transfers of `partBytes`, `window` at a time, each confirmed by a status once on the receiver's
 * disk. A receiver that restarted answers the next share from what it kept; a chunk lost mid-flight
 * is sent again. Resolves when the receiver confirms the plaintext's SHA-256; rejects with a typed
 * error on refusal, time-out or abort. Memory: the window's chunks, never the file. A restarted
 * sender resumes with `resumeDir` (the key kept until the file is confirmed); without it, it draws
 * a new key and its blob starts over.
 */
export async function sendFile(agent: Agent, source: FileSource, o: SendFileOptions): Promise<SendFileResult> {
  const started = Date.now()
  const spool = typeof source === 'string' ? undefined : await spoolStream(source)
  try {
    const path = spool?.path ?? (source as string)
    const filename = o.filename ?? (typeof source === 'string' ? basename(source) : source.filename)
    return await sendBlob(agent, path, filename, spool ? { ...o, resumeDir: undefined } : o, started)
  } finally {
    if (spool) await rm(spool.dir, { recursive: true, force: true })
  }
}

async function sendBlob(
  agent: Agent,
  path: string,
  filename: string,
  o: SendFileOptions,
  started: number,
): Promise<SendFileResult> {
  const window = o.window ?? 8
  const wireWindow = Math.min(window, o.wireWindow ?? 4)
  const statusTimeoutMs = o.statusTimeoutMs ?? 5000
  const idleTimeoutMs = o.idleTimeoutMs ?? 120_000
  const partTimeoutMs = o.partTimeoutMs ?? 20_000
  const stateFile = o.resumeDir ? await sendStateFile(o.resumeDir, o.to, path) : undefined
  const saved = stateFile ? await loadSendState(stateFile) : undefined
  // a chunk holds whole segments: chunks smaller than a default segment get segments of their size
  const segmentBytes =
    o.segmentBytes ?? Math.max(MIN_SEGMENT_BYTES, Math.min(DEFAULT_SEGMENT_BYTES, o.partBytes ?? DEFAULT_SEGMENT_BYTES))
  let params = saved && saved.segmentBytes === segmentBytes ? paramsOf(saved) : newStreamParams(segmentBytes)
  const S = params.segmentBytes
  const perChunk = Math.max(1, Math.floor((o.partBytes ?? 512 * 1024) / S))

  const size = (await stat(path)).size
  let readBytes = 0
  const onRead = (n: number) => {
    readBytes = n
    o.onProgress?.({ ackedBytes: 0, totalBytes: size, sentBytes: 0, readBytes })
  }
  let hashes = await hashSealed(path, size, params, onRead)
  if (saved && (saved.plainSha256 !== hashes.plain || saved.cipherSha256 !== hashes.cipher)) {
    // other bytes under the same name, size and time: a fresh key (the old one sealed them only in memory)
    params = newStreamParams(segmentBytes)
    hashes = await hashSealed(path, size, params, onRead)
  }
  if (stateFile) await saveSendState(stateFile, params, hashes)
  const segments = segmentCount(size, S)
  const count = Math.ceil(segments / perChunk)
  const transferId = randomBytes(16).toString('base64url')
  const chunks = await chunkReader(path, size, params, hashes.cipher, perChunk)

  const sendOpts = { to: o.to, anonymous: false, sign: o.sign, returnRoute: 'all' as const, compress: false as const }
  const statuses: FileStatus[] = []
  let wake: () => void = () => {}
  // the receiver's status messages are ours, not the application's: taken before messages() sees them
  const stopIntercept = agent.addHandler(async ({ message, metadata }) => {
    if (message.type !== FILE_STATUS || message.thid !== transferId) return false
    if (!metadata.authenticated || message.from?.split('#')[0] !== o.to.split('#')[0]) return false
    try {
      statuses.push(parseStatus(message))
      wake()
    } catch {
      // a malformed status is ignored: the next one, or our next share, will do
    }
    return true
  })
  agent.receive()

  const held = new Set<number>()
  /** Chunks sent and not yet confirmed on disk. */
  const inFlight = new Set<number>()
  /** Chunks whose wire send is still running: never sent again meanwhile (docs/FILES.md, sent twice). */
  const onWire = new Set<number>()
  /** Shares sent so far, and the count when each chunk's wire send succeeded (see the answer below). */
  let asks = 0
  const deliveredAt = new Map<number, number>()
  const epoch = new AbortController()
  const wireSends = new Set<Promise<unknown>>()
  let offerId = ''
  let awaitingOffer = false
  let lastHeard = Date.now()
  let lastAsked = 0
  let resumedParts = -1
  let partsSent = 0
  let cipherBytesSent = 0
  let sentBytes = 0
  const signal = o.signal
  /** A chunk's send failed in a way no resend fixes: the loop rethrows it. */
  let failure: unknown
  const chunkPlain = (c: number) => Math.min(perChunk * S, size - c * perChunk * S)
  const progress = () => {
    let acked = 0
    for (const c of held) acked += chunkPlain(c)
    o.onProgress?.({ ackedBytes: acked, totalBytes: size, sentBytes, readBytes: readBytes + sentBytes })
  }

  const ask = async () => {
    const share = shareMessage({
      id: transferId,
      filename,
      mediaType: o.mediaType ?? 'application/octet-stream',
      plainBytes: size,
      plainSha256: hashes.plain,
      cipherBytes: hashes.cipherBytes,
      cipherSha256: hashes.cipher,
      params,
      links: [`${BLOB_LINK_SCHEME}${hashes.cipher}`],
    })
    offerId = share.id
    asks++
    awaitingOffer = true
    lastAsked = Date.now()
    await agent
      .send(share, { ...sendOpts, signal: anySignal(signal, AbortSignal.timeout(statusTimeoutMs)) })
      .catch((err: unknown) => rethrowIfFatal(err, signal))
  }

  const sendChunk = async (c: number) => {
    inFlight.add(c)
    onWire.add(c)
    const bytes = await chunks.read(c)
    const n = bytes.length
    partsSent++
    sentBytes += n
    const mine = epoch.signal
    const p = agent
      .sendBytes(bytes, {
        to: o.to,
        mediaType: MEDIA_BLOB,
        signal: anySignal(signal, mine, AbortSignal.timeout(partTimeoutMs)),
      })
      .then(() => {
        deliveredAt.set(c, asks)
        cipherBytesSent += n
      })
      .catch((err: unknown) => {
        try {
          rethrowIfFatal(err, signal)
        } catch (fatal) {
          failure ??= fatal
        }
        // lost mid-flight (time-out, link down, a receiver gone): the next status or share says what to resend
        if (!mine.aborted) inFlight.delete(c)
      })
      .finally(() => {
        chunks.release(bytes)
        onWire.delete(c)
        wireSends.delete(p)
        wake()
      })
    wireSends.add(p)
    progress()
  }

  try {
    await ask()
    for (;;) {
      signal?.throwIfAborted()
      if (failure) throw failure
      // what the receiver said since we last looked
      for (const s of statuses.splice(0)) {
        lastHeard = Date.now()
        if (s.refused) throw new FileTransferRefusedError(`the receiver refused ${filename}: ${s.refused}`)
        if (s.known === false) {
          held.clear()
          await ask()
          continue
        }
        const got = chunksHeld(fromRanges(s.held, segments), perChunk, segments)
        if (s.answers === offerId) {
          // the receiver's whole truth: anything out before it is lost or will be answered again
          awaitingOffer = false
          held.clear()
          // …except chunks still on the wire, and chunks delivered since that share went out
          for (const c of inFlight) if (!onWire.has(c) && deliveredAt.get(c) !== asks) inFlight.delete(c)
          if (resumedParts < 0) resumedParts = got.size
        }
        for (const c of got) {
          held.add(c)
          inFlight.delete(c)
          deliveredAt.delete(c)
        }
        progress()
        if (s.complete) {
          if (stateFile) await rm(stateFile, { force: true })
          return {
            transferId,
            filename,
            bytes: size,
            sha256: hashes.plain,
            cipherSha256: hashes.cipher,
            segments,
            parts: count,
            resumedParts: Math.max(0, resumedParts),
            partsSent,
            cipherBytesSent,
            durationMs: Date.now() - started,
          }
        }
      }
      const now = Date.now()
      if (now - lastHeard > idleTimeoutMs)
        throw new TransferTimeoutError(`no answer from ${o.to} for ${idleTimeoutMs} ms while sending ${filename}`)
      const outstanding = awaitingOffer || inFlight.size > 0 || held.size === count
      if (outstanding && now - Math.max(lastHeard, lastAsked) > statusTimeoutMs) {
        await ask()
        continue
      }
      if (!awaitingOffer) {
        let next = 0
        while (inFlight.size < window && wireSends.size < wireWindow) {
          while (next < count && (held.has(next) || inFlight.has(next))) next++
          if (next >= count) break
          await sendChunk(next)
        }
      }
      if (statuses.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(statusTimeoutMs, 1000))
          function done() {
            clearTimeout(timer)
            signal?.removeEventListener('abort', done)
            wake = () => {}
            resolve()
          }
          wake = done
          signal?.addEventListener('abort', done, { once: true })
        })
      }
    }
  } catch (err) {
    if (signal?.aborted && !(err instanceof CarrierError)) throw new AbortError(signal.reason)
    throw err
  } finally {
    stopIntercept()
    epoch.abort()
    await Promise.allSettled([...wireSends])
    await chunks.close()
  }
}

/** Chunks all of whose segments are held. */
function chunksHeld(segs: Set<number>, perChunk: number, segments: number): Set<number> {
  const out = new Set<number>()
  const count = Math.ceil(segments / perChunk)
  for (let c = 0; c < count; c++) {
    let all = true
    for (let i = c * perChunk; i < Math.min(segments, (c + 1) * perChunk) && all; i++) all = segs.has(i)
    if (all) out.add(c)
  }
  return out
}

/**
 * Plaintext SHA-256, ciphertext SHA-256 and size, in one pass that seals the file (the share needs
 * both hashes before any byte goes); `onRead` after each MiB.
 */
async function hashSealed(
  path: string,
  size: number,
  params: StreamParams,
  onRead: (bytes: number) => void,
): Promise<{ plain: string; cipher: string; cipherBytes: number }> {
  const plain = createHash('sha256')
  const cipher = createHash('sha256')
  const S = params.segmentBytes
  const segments = segmentCount(size, S)
  const perRead = Math.max(1, Math.floor((1024 * 1024) / S))
  const buf = new Uint8Array(Math.min(size, perRead * S) || 1)
  const sealed = new Uint8Array(S + TAG_BYTES)
  let cipherBytes = 0
  const fh = await open(path, 'r')
  // each sealed segment is a fresh 64 KiB buffer, dropped at once: room for them (adapters/fs/heap-room.ts)
  const room = new HeapRoom()
  try {
    for (let first = 0; first < segments; first += perRead) {
      const len = Math.min(size - first * S, perRead * S)
      const { bytesRead } = await fh.read(buf, 0, len, first * S)
      if (bytesRead !== len) throw new CarrierError('ERR_FILE_CHANGED', `${path} changed size while being read`)
      plain.update(buf.subarray(0, len))
      for (let i = first, at = 0; i < Math.min(segments, first + perRead); i++, at += S) {
        const n = sealInto(params, i, i === segments - 1, buf.subarray(at, Math.min(len, at + S)), sealed, 0)
        cipher.update(sealed.subarray(0, n))
        cipherBytes += n
      }
      onRead(first * S + len)
    }
  } finally {
    room.release()
    await fh.close()
  }
  return { plain: plain.digest('hex'), cipher: cipher.digest('hex'), cipherBytes }
}

/**
 * Reads and seals chunk c (segments [c·perChunk, …)) into a buffer, header first. Buffers come from
 * a pool and go back with `release` once their wire send settled: a fresh 512 KiB buffer per chunk
 * left malloc holding more than the live chunks (256 MB: sender peak RSS 115 MB; 100 MB with malloc
 * told to return large buffers at once; 104–109 MB with this pool; docs/FILES.md "Measured").
 */
async function chunkReader(path: string, size: number, params: StreamParams, blob: string, perChunk: number) {
  const S = params.segmentBytes
  const segments = segmentCount(size, S)
  const fh = await open(path, 'r')
  const plain = new Uint8Array(Math.min(size, perChunk * S) || 1)
  const largest = BLOB_CHUNK_HEADER + Math.min(segments, perChunk) * (S + TAG_BYTES)
  const pool: Uint8Array[] = []
  return {
    async read(c: number): Promise<Uint8Array> {
      const first = c * perChunk
      const end = Math.min(segments, first + perChunk)
      const lastSpan = segmentSpan(end - 1, size, S)
      const sealedBytes = lastSpan.offset + lastSpan.length - first * (S + TAG_BYTES)
      const len = Math.min(size - first * S, (end - first) * S)
      const { bytesRead } = await fh.read(plain, 0, len, first * S)
      if (bytesRead !== len) throw new CarrierError('ERR_FILE_CHANGED', `${path} changed size while being sent`)
      const out = writeChunkHeader(
        (pool.pop() ?? new Uint8Array(largest)).subarray(0, BLOB_CHUNK_HEADER + sealedBytes),
        blob,
        first,
      )
      let at = BLOB_CHUNK_HEADER
      for (let i = first; i < end; i++) {
        const from = (i - first) * S
        at += sealInto(params, i, i === segments - 1, plain.subarray(from, Math.min(len, from + S)), out, at)
      }
      return out
    },
    /** A chunk from `read` whose wire send settled: nothing reads it any more. */
    release(chunk: Uint8Array): void {
      if (chunk.buffer.byteLength === largest) pool.push(new Uint8Array(chunk.buffer, 0, largest))
    },
    close: () => fh.close(),
  }
}

/** A stream source written to a private temp file: its hashes must be known before its share goes. */
async function spoolStream(s: { stream: AsyncIterable<Uint8Array>; size: number }): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'carrier-send-'))
  const path = join(dir, 'file')
  await pipeline(s.stream, createWriteStream(path, { mode: 0o600 }))
  const { size } = await stat(path)
  if (size !== s.size) {
    await rm(dir, { recursive: true, force: true })
    throw new CarrierError('ERR_FILE_CHANGED', `the stream has ${size} bytes, not the ${s.size} announced`)
  }
  return { dir, path }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined))
}

/** Errors a resend cannot fix (nobody to send to, a refused key) end the transfer; the caller's abort too. */
function rethrowIfFatal(err: unknown, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason)
  const code = (err as { code?: string }).code
  // no transport, or one that cannot carry bytes: every resend would fail the same way
  if (code === 'ERR_NO_TRANSPORT' || code === 'ERR_NO_DIRECT_LINK' || (code?.startsWith('ERR_DIDCOMM_') ?? false)) throw err
}
