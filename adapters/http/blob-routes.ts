import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type BlobAccessLimits, blobLimits } from '../../src/mediator/blob-access.js'
import { type BlobInfo, BlobOffsetError, BlobQuotaError, type BlobStore, isBlobHash } from '../../src/mediator/blob-store.js'
import { type BlobGrant, BlobTokenError, type BlobTokens } from '../../src/mediator/blob-tokens.js'
import { CarrierError } from '../../src/transport.js'

export interface BlobRoutesOptions {
  store: BlobStore
  /** The tokens blob-access grants (src/mediator/blob-tokens.ts); undefined while the mediator starts (503). */
  tokens: () => BlobTokens | undefined
  limits?: BlobAccessLimits
  /** Every request refused, with its status and reason. */
  onRefused?: (r: { status: number; code: string; reason: string }) => void
}

/** Bytes an upload appends at a time (each durable before the next is read). */
const PIECE = 1024 * 1024
const PATH = /^\/blobs\/([^/?#]*)$/
const CONTENT_RANGE = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/
const RANGE = /^bytes=(\d{0,16})-(\d{0,16})$/

/** An answer with a status: thrown inside the handler, written by it. */
class Answer extends CarrierError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message)
  }
}

/**
 * The blob endpoints (docs/FILES.md "Blobs at the mediator"), as a route for the web server:
 * `PUT /blobs/<sha256>` with `Content-Range: bytes a-b/total` appends at the bytes held (resumable;
 * the hash is checked once the blob is whole: 201, or 422 and the bytes are gone), `HEAD` says how
 * many bytes are held (`Blob-Held`), `GET` with `Range` serves a complete blob (206) and `DELETE`
 * is a recipient's confirmation (the blob goes with its last recipient). Every request carries
 * `Authorization: Bearer <token>` from blob-access: a put token for PUT (it names the size and the
 * recipients), a get token naming a recipient for GET and DELETE; HEAD takes either.
 * Bad input gets a 4xx with a JSON body `{error, message}`; nothing a client sends stops the server.
 */
export function blobRoutes(o: BlobRoutesOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const limits = blobLimits(o.limits)

  return async (req, res) => {
    const url = req.url ?? ''
    if (!url.startsWith('/blobs/')) return false
    res.setHeader('access-control-allow-origin', '*')
    res.setHeader('access-control-expose-headers', 'blob-held, blob-size, blob-complete, content-range')
    try {
      await serve(req, res, url)
    } catch (err) {
      const a = err instanceof Answer ? err : new Answer(500, 'ERR_INTERNAL', `internal error: ${(err as Error)?.message ?? err}`)
      o.onRefused?.({ status: a.status, code: a.code, reason: a.message })
      if (res.headersSent) {
        res.destroy()
        return true
      }
      // a request whose body we will not read closes its connection (a 200 MB body is not drained)
      const close = req.readableEnded ? {} : { connection: 'close' }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers, ...close })
      res.end(JSON.stringify({ error: a.code, message: a.message }))
      if (!req.readableEnded) res.once('finish', () => req.destroy())
    }
    return true
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const hash = PATH.exec(url.split('?')[0] as string)?.[1] ?? ''
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'PUT, HEAD, GET, DELETE',
        'access-control-allow-headers': 'authorization, content-range, range, content-type',
        'access-control-max-age': '600',
      })
      res.end()
      return
    }
    if (!isBlobHash(hash))
      throw new Answer(400, 'ERR_BLOB_HASH', 'a blob is named /blobs/<SHA-256 of its bytes, 64 lowercase hex>')
    const tokens = o.tokens()
    if (!tokens) throw new Answer(503, 'ERR_STARTING', 'the mediator is starting', { 'retry-after': '1' })
    const grant = tokenOf(req, tokens, hash)
    if (req.method === 'PUT') return put(req, res, hash, grant)
    if (req.method === 'HEAD') return head(res, hash, grant)
    if (req.method === 'GET') return get(req, res, hash, grant)
    if (req.method === 'DELETE') return del(res, hash, grant)
    throw new Answer(405, 'ERR_METHOD', `${req.method} is not served here`, { allow: 'PUT, HEAD, GET, DELETE' })
  }

  function tokenOf(req: IncomingMessage, tokens: BlobTokens, hash: string): BlobGrant {
    const auth = req.headers.authorization ?? ''
    const m = /^Bearer (\S+)$/.exec(auth)
    const challenge = { 'www-authenticate': 'Bearer realm="blobs"' }
    if (!m) throw new Answer(401, 'ERR_BLOB_TOKEN', 'send Authorization: Bearer <token> (blob-access 1.0 gives one)', challenge)
    let g: BlobGrant
    try {
      g = tokens.verify(m[1] as string)
    } catch (err) {
      if (err instanceof BlobTokenError) throw new Answer(401, err.code, err.message, challenge)
      throw err
    }
    if (g.hash !== hash) throw new Answer(403, 'ERR_BLOB_FORBIDDEN', 'the token is for another blob')
    return g
  }

  async function settled(hash: string) {
    const info = await o.store.info(hash)
    if (!info || info.complete || info.held !== info.size) return info
    // every byte is held: the hash decides (whichever request or instance gets here; two at once agree)
    const h = createHash('sha256')
    for await (const chunk of o.store.read(hash, 0, info.size)) h.update(chunk)
    if (h.digest('hex') !== hash) {
      await o.store.delete(hash)
      throw new Answer(422, 'ERR_BLOB_HASH_MISMATCH', `the ${info.size} bytes uploaded do not hash to ${hash}: they were deleted`)
    }
    await o.store.complete(hash)
    return { ...info, complete: true }
  }

  function heldHeaders(info: { held: number; size: number; complete: boolean }) {
    return { 'blob-held': String(info.held), 'blob-size': String(info.size), 'blob-complete': String(info.complete) }
  }

  async function put(req: IncomingMessage, res: ServerResponse, hash: string, g: BlobGrant): Promise<void> {
    if (g.op !== 'put' || g.size === undefined || !g.recipients)
      throw new Answer(403, 'ERR_BLOB_FORBIDDEN', 'an upload needs a put token')
    const size = g.size
    if (size > limits.maxBlobBytes) throw new Answer(413, 'ERR_BLOB_TOO_LARGE', `${size} bytes: over ${limits.maxBlobBytes}`)
    const cr = req.headers['content-range']
    let start = 0
    let end = -1
    if (cr !== undefined || size > 0) {
      const m = CONTENT_RANGE.exec(cr ?? '')
      if (!m) throw new Answer(400, 'ERR_BLOB_RANGE', 'send Content-Range: bytes <first>-<last>/<size>')
      start = Number(m[1])
      end = Number(m[2])
      if (Number(m[3]) !== size) throw new Answer(400, 'ERR_BLOB_RANGE', `the blob has ${size} bytes, not ${m[3]}`)
      if (end < start || end >= size) throw new Answer(400, 'ERR_BLOB_RANGE', `bytes ${start}-${end} are not in 0-${size - 1}`)
    }
    const length = end - start + 1
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) !== length)
      throw new Answer(400, 'ERR_BLOB_RANGE', `Content-Length ${declared} is not the ${length} bytes of the range`)
    let info: BlobInfo
    try {
      info = await o.store.create(
        {
          hash,
          size,
          uploader: g.did,
          recipients: g.recipients,
          createdAt: Date.now(),
          expiresAt: Date.now() + limits.expirySeconds * 1000,
        },
        { maxBytesPerRecipient: limits.maxBytesPerRecipient },
      )
    } catch (err) {
      if (err instanceof BlobQuotaError) throw new Answer(507, err.code, err.message)
      throw err
    }
    if (info.size !== size) throw new Answer(409, 'ERR_BLOB_SIZE', `blob ${hash} is being uploaded with ${info.size} bytes`)
    if (info.complete || (info.held === size && length <= 0)) {
      info = (await settled(hash)) ?? info
      req.resume()
      res.writeHead(info.complete ? 200 : 202, { 'content-type': 'application/json', ...heldHeaders(info) })
      res.end(JSON.stringify({ held: info.held, size, complete: info.complete }))
      return
    }
    if (start !== info.held)
      throw new Answer(409, 'ERR_BLOB_OFFSET', `${info.held} bytes are held: continue from there`, heldHeaders(info))
    let held = info.held
    let got = 0
    let piece: Buffer[] = []
    let pieceBytes = 0
    const flush = async () => {
      if (pieceBytes === 0) return
      const bytes = Buffer.concat(piece, pieceBytes)
      piece = []
      pieceBytes = 0
      try {
        held = await o.store.append(hash, held, bytes)
      } catch (err) {
        if (err instanceof BlobOffsetError)
          throw new Answer(409, err.code, `another upload of the same blob got there first: ${err.held} bytes held`, {
            'blob-held': String(err.held),
          })
        throw err
      }
    }
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        got += chunk.length
        if (got > length) throw new Answer(400, 'ERR_BLOB_RANGE', `the body is longer than the ${length} bytes of its range`)
        piece.push(chunk)
        pieceBytes += chunk.length
        if (pieceBytes >= PIECE) await flush()
      }
    } catch (err) {
      if (err instanceof Answer) throw err
      // the client went away: what it sent whole is kept (a resumed upload asks HEAD)
      await flush().catch(() => {})
      return
    }
    await flush()
    if (got !== length) throw new Answer(400, 'ERR_BLOB_RANGE', `the body has ${got} bytes, its range ${length}`)
    const now = (await settled(hash)) ?? { held, size, complete: false }
    res.writeHead(now.complete ? 201 : 200, { 'content-type': 'application/json', ...heldHeaders(now) })
    res.end(JSON.stringify({ held: now.held, size, complete: now.complete }))
  }

  async function visible(hash: string, g: BlobGrant) {
    const info = await settled(hash)
    if (!info) throw new Answer(404, 'ERR_BLOB_NOT_FOUND', `no blob ${hash} here (never uploaded, expired or deleted)`)
    if (g.op === 'get' && !info.recipients.includes(g.did))
      throw new Answer(403, 'ERR_BLOB_NOT_NAMED', `blob ${hash} was not uploaded for ${g.did}`)
    return info
  }

  async function head(res: ServerResponse, hash: string, g: BlobGrant): Promise<void> {
    const info = await visible(hash, g)
    res.writeHead(200, { ...heldHeaders(info), 'accept-ranges': 'bytes', 'content-length': String(info.size) })
    res.end()
  }

  async function get(req: IncomingMessage, res: ServerResponse, hash: string, g: BlobGrant): Promise<void> {
    if (g.op !== 'get') throw new Answer(403, 'ERR_BLOB_FORBIDDEN', 'a download needs a get token')
    const info = await visible(hash, g)
    if (!info.complete) throw new Answer(404, 'ERR_BLOB_NOT_FOUND', `blob ${hash} is not uploaded whole yet`)
    const size = info.size
    let start = 0
    let end = size
    const range = req.headers.range
    if (range !== undefined) {
      const m = RANGE.exec(range)
      if (!m || (m[1] === '' && m[2] === ''))
        throw new Answer(400, 'ERR_BLOB_RANGE', 'send one range: Range: bytes=<first>-[<last>] or bytes=-<suffix>')
      if (m[1] === '') start = Math.max(0, size - Number(m[2]))
      else {
        start = Number(m[1])
        end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1)
      }
      if (start >= size || end <= start)
        throw new Answer(416, 'ERR_BLOB_RANGE', `${range} is not in a blob of ${size} bytes`, {
          'content-range': `bytes */${size}`,
        })
    }
    res.writeHead(range !== undefined ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start),
      'accept-ranges': 'bytes',
      ...(range !== undefined ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}),
    })
    for await (const chunk of o.store.read(hash, start, end)) {
      if (res.destroyed) return
      if (!res.write(chunk))
        await new Promise<void>((r) => {
          res.once('drain', r)
          res.once('close', r)
        })
    }
    res.end()
  }

  async function del(res: ServerResponse, hash: string, g: BlobGrant): Promise<void> {
    if (g.op !== 'get') throw new Answer(403, 'ERR_BLOB_FORBIDDEN', 'a confirmation needs a get token')
    await visible(hash, g)
    const gone = await o.store.release(hash, g.did)
    res.writeHead(204, { 'blob-deleted': String(gone) })
    res.end()
  }
}
