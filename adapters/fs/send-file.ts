import { createHash, randomBytes } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Agent, AgentSendOptions } from '../../src/agent.js'
import {
  DEFAULT_PART_BYTES,
  FILE_STATUS,
  type FileStatus,
  fromRanges,
  hexOf,
  offerMessage,
  parseStatus,
  partMessage,
  transferIdFor,
} from '../../src/protocols/file-transfer.js'
import { AbortError, CarrierError, RejectedError, TransferTimeoutError } from '../../src/transport.js'
import { sha256, sha256File } from './save.js'

/** A path, or a stream of known size (read once: a restarted sender cannot resume it). */
export type FileSource = string | { stream: AsyncIterable<Uint8Array>; size: number; filename: string }

export interface FileProgress {
  /** Bytes the receiver has confirmed on disk. */
  ackedBytes: number
  totalBytes: number
  /** Part bytes put on the wire so far, resends included. */
  sentBytes: number
}

export interface SendFileOptions extends Omit<AgentSendOptions, 'returnRoute' | 'onProgress' | 'compress'> {
  filename?: string
  mediaType?: string
  /** Bytes per part (one envelope each). Default 1 MiB. */
  partBytes?: number
  /** Parts sent and not yet confirmed by the receiver. Default 4. */
  window?: number
  /** Time-out of each part's wire send. Default 20 s. */
  partTimeoutMs?: number
  /** Ask the receiver again (offer) after this long without a status while parts are out. Default 5 s. */
  statusTimeoutMs?: number
  /** Give up after hearing nothing from the receiver for this long. Default 120 s. */
  idleTimeoutMs?: number
  /** Same file + recipient + part size → same transfer id, so a restarted sender resumes. Default true (paths only). */
  resume?: boolean
  onProgress?: (p: FileProgress) => void
}

export interface SendFileResult {
  transferId: string
  filename: string
  bytes: number
  sha256: string
  parts: number
  /** Parts the receiver already held when we started (a resume). */
  resumedParts: number
  /** Part messages sent, resends included. */
  partsSent: number
  /** Envelope bytes of the part messages whose wire send completed… */
  envelopeBytesSent: number
  /** …and the file bytes they carried (their ratio is the envelope's expansion, ~1.78 for base64 twice). */
  partBytesDelivered: number
  durationMs: number
}

export class FileTransferRefusedError extends RejectedError {}

/** Reads part i of the source; a stream keeps parts until the receiver confirms them. */
interface PartSource {
  /** Valid until the next read (a file's parts share one buffer): encode it before reading again. */
  read(index: number): Promise<Uint8Array>
  release(index: number): void
  close(): Promise<void>
}

/**
 * Sends a file as a file-transfer (docs/FILES.md): an offer that asks which parts the receiver
 * holds, then the missing parts, `window` at a time, each confirmed by a status once on the
 * receiver's disk. A receiver that restarted answers the next offer from what it kept; a part that
 * is lost mid-flight is simply sent again. Resolves when the receiver confirms the whole file's
 * SHA-256; rejects with a typed error on refusal, time-out or abort.
 */
export async function sendFile(agent: Agent, source: FileSource, o: SendFileOptions): Promise<SendFileResult> {
  const started = Date.now()
  const partBytes = o.partBytes ?? DEFAULT_PART_BYTES
  const window = o.window ?? 4
  const statusTimeoutMs = o.statusTimeoutMs ?? 5000
  const idleTimeoutMs = o.idleTimeoutMs ?? 120_000
  const partTimeoutMs = o.partTimeoutMs ?? 20_000

  const path = typeof source === 'string' ? source : undefined
  const size = path ? (await stat(path)).size : (source as { size: number }).size
  const filename = o.filename ?? (path ? basename(path) : (source as { filename: string }).filename)
  const fileSha = path ? await sha256File(path) : undefined
  const count = Math.ceil(size / partBytes)
  const transferId =
    fileSha && o.resume !== false
      ? transferIdFor(sha256, { sha256: fileSha, to: o.to, size, partBytes })
      : randomBytes(16).toString('base64url')
  const parts = path
    ? await fileParts(path, partBytes, size)
    : streamParts((source as { stream: AsyncIterable<Uint8Array> }).stream, partBytes, size)
  let streamDigest: string | undefined

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
      // a malformed status is ignored: the next one, or our next offer, will do
    }
    return true
  })
  agent.receive()

  const held = new Set<number>()
  /** Parts sent and not yet confirmed on disk. */
  const inFlight = new Set<number>()
  /** Parts whose wire send is still running: never sent again meanwhile (docs/FILES.md, sent twice). */
  const onWire = new Set<number>()
  /**
   * Offers sent so far, and the count when each part's wire send succeeded: the answer to an offer
   * may have been made before a part delivered after that offer landed, so it leaves such a part
   * out without its being lost (the part's own status follows).
   */
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
  let envelopeBytesSent = 0
  let partBytesDelivered = 0
  let sentBytes = 0
  const signal = o.signal
  /** A part's send failed in a way no resend fixes: the loop rethrows it. */
  let failure: unknown
  const partLen = (i: number) => Math.min(partBytes, size - i * partBytes)
  const progress = () => {
    let acked = 0
    for (const i of held) acked += partLen(i)
    o.onProgress?.({ ackedBytes: acked, totalBytes: size, sentBytes })
  }

  // a new offer leaves the parts on the wire alone: the wire delivers each or fails it (its own
  // time-outs, the receiver's REJECT), and only then may it go again
  const ask = async () => {
    const offer = offerMessage({
      transferId,
      filename,
      mediaType: o.mediaType ?? 'application/octet-stream',
      size,
      ...(fileSha ? { sha256: fileSha } : {}),
      partBytes,
      count,
    })
    offerId = offer.id
    asks++
    awaitingOffer = true
    lastAsked = Date.now()
    await agent
      .send(offer, { ...sendOpts, signal: anySignal(signal, AbortSignal.timeout(statusTimeoutMs)) })
      .catch((err: unknown) => rethrowIfFatal(err, signal))
  }

  const sendPart = async (index: number) => {
    inFlight.add(index)
    onWire.add(index)
    const bytes = await parts.read(index)
    const last = index === count - 1
    if (!fileSha && last && !streamDigest) streamDigest = await parts.digest?.()
    const m = partMessage(
      {
        transferId,
        index,
        count,
        offset: index * partBytes,
        size,
        sha256: fileSha ?? (last ? streamDigest : undefined),
        bytes,
      },
      sha256,
    )
    const n = bytes.length
    partsSent++
    sentBytes += n
    const mine = epoch.signal
    // the closures keep the length only: the part's bytes are garbage as soon as they are packed
    const p = agent
      .send(m, { ...sendOpts, signal: anySignal(signal, mine, AbortSignal.timeout(partTimeoutMs)) })
      .then((r) => {
        deliveredAt.set(index, asks)
        envelopeBytesSent += r.report.envelopeBytes
        partBytesDelivered += n
      })
      .catch((err: unknown) => {
        try {
          rethrowIfFatal(err, signal)
        } catch (fatal) {
          failure ??= fatal
        }
        // lost mid-flight (time-out, link down, a receiver gone): the next status or offer says what to resend
        if (!mine.aborted) inFlight.delete(index)
      })
      .finally(() => {
        onWire.delete(index)
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
        const got = fromRanges(s.held, count)
        if (s.answers === offerId) {
          // the receiver's whole truth: anything out before it is lost or will be answered again
          awaitingOffer = false
          held.clear()
          // …except parts still on the wire, and parts delivered since that offer went out
          for (const i of inFlight) if (!onWire.has(i) && deliveredAt.get(i) !== asks) inFlight.delete(i)
          if (resumedParts < 0) resumedParts = got.size
        }
        for (const i of got) {
          held.add(i)
          inFlight.delete(i)
          deliveredAt.delete(i)
          parts.release(i)
        }
        progress()
        if (s.complete) {
          return {
            transferId,
            filename,
            bytes: size,
            sha256: fileSha ?? streamDigest ?? '',
            parts: count,
            resumedParts: Math.max(0, resumedParts),
            partsSent,
            envelopeBytesSent,
            partBytesDelivered,
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
        while (inFlight.size < window && wireSends.size < window) {
          while (next < count && (held.has(next) || inFlight.has(next))) next++
          if (next >= count) break
          await sendPart(next)
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
    await parts.close()
  }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined))
}

/** Errors a resend cannot fix (nobody to send to, a refused key) end the transfer; the caller's abort too. */
function rethrowIfFatal(err: unknown, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason)
  const code = (err as { code?: string }).code
  if (code === 'ERR_NO_TRANSPORT' || (code?.startsWith('ERR_DIDCOMM_') ?? false)) throw err
}

async function fileParts(
  path: string,
  partBytes: number,
  size: number,
): Promise<PartSource & { digest?: () => Promise<string> }> {
  const fh = await open(path, 'r')
  // one buffer for every part: sendPart encodes a part into its message before it reads the next
  const buf = new Uint8Array(Math.min(partBytes, size))
  return {
    async read(i) {
      const len = Math.min(partBytes, size - i * partBytes)
      const { bytesRead } = await fh.read(buf, 0, len, i * partBytes)
      if (bytesRead !== len) throw new CarrierError('ERR_FILE_CHANGED', `${path} changed size while being sent`)
      return buf.subarray(0, len)
    },
    release() {},
    close: () => fh.close(),
  }
}

/**
 * Parts of a stream, read in order and kept until confirmed (at most the window, plus what the
 * receiver asks again); the SHA-256 is known once the last part was read.
 */
function streamParts(
  stream: AsyncIterable<Uint8Array>,
  partBytes: number,
  size: number,
): PartSource & { digest: () => Promise<string> } {
  const it = stream[Symbol.asyncIterator]()
  const kept = new Map<number, Uint8Array>()
  const h = createHash('sha256')
  let nextIndex = 0
  let pending = new Uint8Array(0)
  let total = 0
  const count = Math.ceil(size / partBytes)
  const readNext = async (): Promise<Uint8Array> => {
    const len = Math.min(partBytes, size - nextIndex * partBytes)
    while (pending.length < len) {
      const r = await it.next()
      if (r.done) throw new CarrierError('ERR_FILE_CHANGED', `the stream ended at ${total + pending.length} of ${size} bytes`)
      const chunk = r.value
      const joined = new Uint8Array(pending.length + chunk.length)
      joined.set(pending)
      joined.set(chunk, pending.length)
      pending = joined
    }
    const part = pending.slice(0, len)
    pending = pending.slice(len)
    total += len
    h.update(part)
    if (nextIndex === count - 1 && (pending.length > 0 || !(await it.next()).done))
      throw new CarrierError('ERR_FILE_CHANGED', `the stream is longer than ${size} bytes`)
    kept.set(nextIndex++, part)
    return part
  }
  return {
    async read(i) {
      const k = kept.get(i)
      if (k) return k
      if (i !== nextIndex) throw new CarrierError('ERR_FILE_STREAM_GONE', `part ${i} of a stream was already released`)
      return readNext()
    },
    release(i) {
      kept.delete(i)
    },
    async digest() {
      return hexOf(h.copy().digest())
    },
    async close() {
      await it.return?.()
    },
  }
}
