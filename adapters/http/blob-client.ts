import { type BackoffOptions, backoffDelay } from '../../src/agent/backoff.js'
import type { Agent } from '../../src/agent.js'
import {
  type BlobAccessGrant,
  type BlobAccessRequest,
  blobAccessRequest,
  parseBlobAccessGrant,
} from '../../src/protocols/blob-access.js'
import { CarrierError, throwIfAborted } from '../../src/transport.js'

/**
 * The client of a mediator's blob endpoints (adapters/http/blob-routes.ts): tokens by blob-access
 * 1.0 (authcrypt, over whatever reaches the mediator), resumable upload and ranged download over
 * fetch, each retried with back-off on connection errors and 5xx and resumed where the server's
 * bytes end. Runs wherever fetch streams request bodies (Node 20's does).
 */

/** The mediator refused for good (4xx other than an expired token, or 5xx after every retry): `status` says why. */
export class BlobHttpError extends CarrierError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message)
  }
}

/** A token and URL for one blob operation; called again when the server says the token expired. */
export type BlobAccess = () => Promise<BlobAccessGrant>

/** blob-access 1.0: asks `mediatorDid` (authcrypt, answered on the same exchange) for a token. */
export function blobAccess(agent: Agent, mediatorDid: string, r: BlobAccessRequest, timeoutMs = 30_000): BlobAccess {
  return async () => parseBlobAccessGrant((await agent.request(blobAccessRequest(r), { to: mediatorDid, timeoutMs })).message)
}

export interface BlobTransferOptions {
  access: BlobAccess
  fetch?: typeof globalThis.fetch
  backoff?: BackoffOptions
  /** Retries in a row without progress before giving up. Default 30 (minutes of back-off at 10 s). */
  maxRetries?: number
  signal?: AbortSignal
  /** Called after a failed attempt, before waiting to retry. */
  onRetry?: (e: { attempt: number; error: unknown; delayMs: number }) => void
}

export interface UploadOptions extends BlobTransferOptions {
  size: number
  /** The blob's bytes from `offset` (any offset the server may hold) to the end. */
  source: (offset: number) => AsyncIterable<Uint8Array>
  /** Most bytes in one PUT. Default 16 MiB. */
  requestBytes?: number
  onProgress?: (held: number, size: number) => void
}

/** Transient: the connection failed, the server is restarting (5xx), or the token expired (401). */
class Retry extends Error {
  constructor(
    readonly reason: unknown,
    readonly renewToken = false,
  ) {
    super('retry')
  }
}

async function refusal(res: Response): Promise<BlobHttpError> {
  let code = `ERR_HTTP_${res.status}`
  let message = `${res.url} answered ${res.status}`
  try {
    const j = (await res.json()) as { error?: string; message?: string }
    if (j.error) code = j.error
    if (j.message) message = `${message}: ${j.message}`
  } catch {
    // no JSON body (a proxy's page)
  }
  return new BlobHttpError(res.status, code, message)
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res
  const err = await refusal(res)
  if (res.status === 401) throw new Retry(err, true)
  if (res.status >= 500 && res.status !== 507) throw new Retry(err)
  throw err
}

/** Runs `attempt` until it resolves; transient failures wait with back-off, progress resets the count. */
async function withRetries<T>(
  o: BlobTransferOptions,
  attempt: (grant: BlobAccessGrant, progressed: () => void) => Promise<T>,
): Promise<T> {
  const max = o.maxRetries ?? 30
  let grant: BlobAccessGrant | undefined
  for (let failures = 0; ; ) {
    throwIfAborted(o.signal)
    try {
      grant ??= await o.access()
      return await attempt(grant, () => {
        failures = 0
      })
    } catch (err) {
      if (!retryable(err)) throw err
      if (err instanceof Retry && err.renewToken) grant = undefined
      if (failures >= max) throw err instanceof Retry ? err.reason : err
      const delayMs = backoffDelay(failures++, o.backoff)
      o.onRetry?.({ attempt: failures, error: err instanceof Retry ? err.reason : err, delayMs })
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }
}

/**
 * A failure that may go away: a connection refused or cut (fetch's TypeError, wrapped in Retry), a
 * 5xx or 401, a timeout, the mediator's answer to blob-access not arriving. A refusal
 * (BlobHttpError, a problem report) and an abort (ERR_ABORTED) are final.
 */
function retryable(err: unknown): boolean {
  if (err instanceof Retry) return true
  if (err instanceof BlobHttpError) return false
  if (err instanceof CarrierError) return /TIMEOUT|LINK|HTTP_STATUS|UNREACHABLE/.test(err.code)
  // a failure below ours (a socket error the agent's transport did not name): tried again, boundedly
  return true
}

const auth = (g: BlobAccessGrant) => ({ authorization: `Bearer ${g.token}` })

/** How many bytes the server holds of the blob (0 when it has none), and whether it is complete. */
export async function blobHeld(
  url: string,
  g: BlobAccessGrant,
  f: typeof fetch = fetch,
  signal?: AbortSignal,
): Promise<{ held: number; complete: boolean }> {
  const res = await f(url, { method: 'HEAD', headers: auth(g), signal }).catch((e) => {
    throw new Retry(e)
  })
  if (res.status === 404) return { held: 0, complete: false }
  await check(res)
  return { held: Number(res.headers.get('blob-held') ?? 0), complete: res.headers.get('blob-complete') === 'true' }
}

/**
 * Uploads a blob, resuming at the bytes the server holds (asked by HEAD before each PUT, so an
 * upload cut by a crash on either side continues where the server's durable bytes end). Resolves
 * once the server holds the whole blob and checked its hash.
 */
export async function uploadBlob(o: UploadOptions): Promise<void> {
  const f = o.fetch ?? fetch
  const step = o.requestBytes ?? 16 * 1024 * 1024
  await withRetries(o, async (g, progressed) => {
    for (;;) {
      const { held, complete } = await blobHeld(g.url, g, f, o.signal)
      o.onProgress?.(held, o.size)
      if (complete) return
      if (held === o.size && o.size > 0) {
        // every byte is there but the hash was not checked yet (the server died at the end): a HEAD did it
        continue
      }
      const end = Math.min(o.size, held + step)
      const body = o.size === 0 ? new Uint8Array(0) : limitedStream(o.source(held), end - held)
      const res = await f(g.url, {
        method: 'PUT',
        headers: {
          ...auth(g),
          'content-type': 'application/octet-stream',
          ...(o.size > 0 ? { 'content-range': `bytes ${held}-${end - 1}/${o.size}` } : {}),
        },
        body,
        signal: o.signal,
        ...({ duplex: 'half' } as object),
      }).catch((e) => {
        throw new Retry(e)
      })
      if (res.status === 409) {
        await res.body?.cancel()
        continue
      }
      await check(res)
      const answer = (await res.json()) as { held: number; complete: boolean }
      progressed()
      o.onProgress?.(answer.held, o.size)
      if (answer.complete) return
    }
  })
}

/** The first `length` bytes of an async iterable, as a request body stream. */
function limitedStream(src: AsyncIterable<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]()
  let left = length
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (left <= 0) {
        await it.return?.()
        c.close()
        return
      }
      const { value, done } = await it.next()
      if (done) {
        c.error(new Error(`the source ended ${left} bytes early`))
        return
      }
      const chunk = value.length > left ? value.subarray(0, left) : value
      left -= chunk.length
      c.enqueue(chunk)
    },
    async cancel() {
      await it.return?.()
    },
  })
}

export interface DownloadOptions extends BlobTransferOptions {
  /** The blob's size (the share-media message announces it). */
  size: number
  /** Where to start (a resumed download). Default 0. */
  start?: number
}

/**
 * Downloads a blob by `Range`, yielding `(offset, bytes)` in order from `start` to the end; a cut
 * connection or a restarting server resumes at the next offset after a back-off. Throws
 * BlobHttpError when the server refuses (not named, gone). The consumer verifies what it gets.
 */
export async function* downloadBlob(o: DownloadOptions): AsyncGenerator<{ offset: number; bytes: Uint8Array }> {
  const f = o.fetch ?? fetch
  let offset = o.start ?? 0
  if (offset >= o.size) return
  let grant: BlobAccessGrant | undefined
  let failures = 0
  const max = o.maxRetries ?? 30
  while (offset < o.size) {
    throwIfAborted(o.signal)
    const controller = new AbortController()
    const abort = () => controller.abort(o.signal?.reason)
    o.signal?.addEventListener('abort', abort, { once: true })
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
    try {
      grant ??= await o.access()
      const res = await f(grant.url, {
        headers: { ...auth(grant), range: `bytes=${offset}-` },
        signal: controller.signal,
      }).catch((e) => {
        throw new Retry(e)
      })
      if (res.status !== 206) {
        await check(res)
        await res.body?.cancel()
        throw new BlobHttpError(res.status, 'ERR_BLOB_RANGE', `${grant.url} answered ${res.status} to a Range request`)
      }
      if (!res.body) throw new Retry(new Error('no body'))
      reader = res.body.getReader()
      for (;;) {
        const r = await reader.read().catch((e) => {
          throw new Retry(e)
        })
        if (r.done) break
        const at = offset
        offset += r.value.length
        failures = 0
        yield { offset: at, bytes: r.value }
      }
      if (offset < o.size) throw new Retry(new Error(`the response ended at ${offset} of ${o.size}`))
    } catch (err) {
      if (!retryable(err)) throw err
      if (err instanceof Retry && err.renewToken) grant = undefined
      if (failures >= max) throw err instanceof Retry ? err.reason : err
      const delayMs = backoffDelay(failures++, o.backoff)
      o.onRetry?.({ attempt: failures, error: err instanceof Retry ? err.reason : err, delayMs })
      await new Promise((r) => setTimeout(r, delayMs))
    } finally {
      o.signal?.removeEventListener('abort', abort)
      controller.abort()
      reader?.releaseLock()
    }
  }
}

/** The recipient's confirmation: the mediator deletes the blob once every named recipient confirmed. */
export async function confirmBlob(o: BlobTransferOptions): Promise<void> {
  const f = o.fetch ?? fetch
  await withRetries(o, async (g) => {
    const res = await f(g.url, { method: 'DELETE', headers: auth(g), signal: o.signal }).catch((e) => {
      throw new Retry(e)
    })
    if (res.status === 404) return // gone already (a confirmation repeated after a crash)
    await check(res)
  })
}
