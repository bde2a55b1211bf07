import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import type { WebSocket, WebSocketServer } from 'ws'
import type { IncomingEnvelope } from '../../src/agent.js'
import { packPlaintext } from '../../src/didcomm/pack.js'
import { CarrierError, LinkClosedError, type SendOptions, type SendReport } from '../../src/transport.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
import { MEDIA_ENCRYPTED, MEDIA_PLAIN, sniffMediaType } from '../../src/wire/media.js'
import { bareMediaType, DIDCOMM_MEDIA_TYPES, isJsonObject } from './media.js'
import { type Refusal, refusalOf } from './refusal.js'

export interface WebServerOptions {
  /** Default 0 (any free port). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Largest envelope taken, in bytes, over HTTP and WebSocket. Default 1 MiB. */
  maxBytes?: number
  /** Serve WebSocket upgrades too (at any path). Default true. */
  ws?: boolean
  /** WebSocket ping interval; a socket that missed a pong since the last ping is dropped. Default 30 s. */
  pingIntervalMs?: number
  /** How long an HTTP exchange waits for whoever handles its envelope before 504. Default 30 s. */
  answerTimeoutMs?: number
  /** Serve HTTPS and WSS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** Answer CORS preflights and allow any origin (web wallets). Default true. */
  cors?: boolean
  /** Bad input the server refused (it never throws for it). */
  onRefused?: (refusal: { transport: 'http' | 'ws'; status: number; reason: string; code?: string }) => void
  /** Every HTTP exchange that carried an envelope, when it was answered (202, 200 with an answer, or a refusal). */
  onAnswered?: (answer: { status: number; ms: number }) => void
  /**
   * Other routes (GET /healthz, /metrics…), asked before the DIDComm endpoint: answer `res` and
   * return true, or return false to leave the request to the endpoint.
   */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>
}

export interface WebServer {
  /** http://host:port/ */
  readonly url: string
  /** ws://host:port/ (when WebSocket is served) */
  readonly wsUrl: string
  readonly port: number
  incoming(): AsyncIterable<IncomingEnvelope>
  /**
   * Stops taking envelopes (new HTTP exchanges get 503, new WebSockets are refused), waits up to
   * `timeoutMs` (default 10 s) for those in flight to be answered, then closes every WebSocket with
   * 1001 and `reason`. Routes (health, metrics) still answer until close.
   */
  drain(reason: string, timeoutMs?: number): Promise<void>
  /** True once drain() was called. */
  readonly draining: boolean
  close(): Promise<void>
}

const report = (bytes: number, started: number): SendReport => ({
  transferId: crypto.randomUUID(),
  envelopeBytes: bytes,
  streamBytes: bytes,
  compressed: false,
  frames: 1,
  retransmissions: 0,
  confirmed: false,
  durationMs: performance.now() - started,
})

/**
 * A DIDComm endpoint over HTTP POST and WebSocket (DIDComm v2.1 transports). HTTP: 202 once the
 * handler took the envelope, or the answer in the response body when the handler replied first
 * (return_route); 413 over `maxBytes`, 415 for another media type, 400 for what is not a JSON
 * object, the handler's refusal as its status and problem report. WebSocket: one envelope per text
 * frame both ways; binary frames, non-JSON text and over-long frames close that socket with a
 * reason, and only that socket.
 */
export async function startWebServer(o: WebServerOptions = {}): Promise<WebServer> {
  const maxBytes = o.maxBytes ?? 1 << 20
  const incoming = new AsyncQueue<IncomingEnvelope>()
  const refused = (transport: 'http' | 'ws', status: number, reason: string, code?: string) =>
    o.onRefused?.({ transport, status, reason, code })
  let draining = false
  let inFlight = 0
  let idle: (() => void) | undefined
  const begin = () => {
    inFlight++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      if (--inFlight === 0) idle?.()
    }
  }

  const listener: RequestListener = (req, res) => {
    handleRequest(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, 'ERR_INTERNAL', 'internal error')
    })
  }
  const server: Server = o.tls ? createTlsServer({ key: o.tls.key, cert: o.tls.cert }, listener) : createServer(listener)
  server.on('tlsClientError', (_err, socket) => socket.destroy())
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
  })

  function sendJson(res: ServerResponse, status: number, code: string, message: string, close = false): void {
    refused('http', status, message, code)
    res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) })
    res.end(JSON.stringify({ error: code, message }))
  }

  async function readBody(req: IncomingMessage): Promise<Uint8Array | 'too-large'> {
    const declared = Number(req.headers['content-length'] ?? Number.NaN)
    if (declared > maxBytes) return 'too-large'
    const chunks: Buffer[] = []
    let n = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      n += chunk.length
      if (n > maxBytes) return 'too-large'
      chunks.push(chunk)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (o.routes && (await o.routes(req, res))) return
    if (draining && req.method === 'POST') {
      res.setHeader('retry-after', '1')
      sendJson(res, 503, 'ERR_SHUTTING_DOWN', 'the server is shutting down: send it again (another instance takes it)', true)
      req.resume()
      return
    }
    const end = begin()
    res.once('close', end)
    await handleHttp(req, res)
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // a DIDComm endpoint is public: web wallets on any origin may POST to it
    if (o.cors !== false) res.setHeader('access-control-allow-origin', '*')
    if (req.method === 'OPTIONS' && o.cors !== false) {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      })
      res.end()
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      sendJson(res, 405, 'ERR_METHOD', `${req.method} is not served: POST a DIDComm envelope`)
      return
    }
    const type = bareMediaType(req.headers['content-type'])
    if (!DIDCOMM_MEDIA_TYPES.includes(type)) {
      sendJson(
        res,
        415,
        'ERR_MEDIA_TYPE',
        `Content-Type ${type || '(none)'} is not a DIDComm media type (${DIDCOMM_MEDIA_TYPES.join(', ')})`,
        true,
      )
      req.resume()
      return
    }
    const body = await readBody(req)
    if (body === 'too-large') {
      sendJson(res, 413, 'ERR_MESSAGE_TOO_LARGE', `the envelope is over ${maxBytes} bytes`, true)
      req.resume()
      return
    }
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body)
    } catch {
      text = ''
    }
    if (!isJsonObject(text)) {
      sendJson(res, 400, 'ERR_MALFORMED', 'the body is not a JSON object (a DIDComm envelope)')
      return
    }
    let answered = false
    const started = performance.now()
    const answeredWith = (status: number) => o.onAnswered?.({ status, ms: performance.now() - started })
    const timer = setTimeout(
      () => finish(new CarrierError('ERR_TIMEOUT', 'nobody handled the envelope in time')),
      o.answerTimeoutMs ?? 30_000,
    )
    const finish = (err?: unknown) => {
      if (answered) return
      answered = true
      clearTimeout(timer)
      if (err === undefined) {
        res.writeHead(202).end()
        answeredWith(202)
        return
      }
      const r: Refusal = refusalOf(err)
      refused('http', r.status, r.message, r.code)
      answeredWith(r.status)
      if (r.problem) {
        res.writeHead(r.status, { 'content-type': MEDIA_PLAIN }).end(packPlaintext(r.problem))
      } else {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: r.code, message: r.message }))
      }
    }
    incoming.push({
      data: body,
      mediaType: type,
      transferId: crypto.randomUUID(),
      reply: async (envelope: string, so?: SendOptions) => {
        const started = performance.now()
        if (answered) throw new LinkClosedError('the HTTP exchange is over: its one answer went already')
        answered = true
        clearTimeout(timer)
        const bytes = Buffer.from(envelope)
        res.writeHead(200, { 'content-type': so?.mediaType ?? MEDIA_ENCRYPTED, 'content-length': bytes.length })
        res.end(bytes)
        answeredWith(200)
        return report(bytes.length, started)
      },
      done: finish,
    })
  }

  const sockets = new Set<WebSocket & { alive?: boolean }>()
  let wss: WebSocketServer | undefined
  if (o.ws !== false) {
    // loaded only by a server that takes WebSocket upgrades (see endpoint-transport.ts's LazyWebSocket)
    const { WebSocketServer: Server } = createRequire(import.meta.url)('ws') as { WebSocketServer: typeof WebSocketServer }
    wss = new Server({ noServer: true, maxPayload: maxBytes })
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy())
      if (draining) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\r\n')
        return
      }
      wss?.handleUpgrade(req, socket, head, (ws) => serveSocket(ws))
    })
  }

  function serveSocket(ws: WebSocket & { alive?: boolean }): void {
    sockets.add(ws)
    ws.alive = true
    ws.on('pong', () => {
      ws.alive = true
    })
    ws.on('error', (err) => {
      // ws closed it already (1009 over maxPayload, 1002 protocol error): say why, keep serving
      refused('ws', 1009, err.message)
    })
    ws.on('close', () => sockets.delete(ws))
    const shut = (code: number, reason: string, why?: string) => {
      refused('ws', code, reason, why)
      ws.close(code, reason.slice(0, 120))
    }
    ws.on('message', (data, isBinary) => {
      if (isBinary) return shut(1003, 'binary frame: send each DIDComm envelope as one text frame', 'ERR_MEDIA_TYPE')
      const text = data.toString()
      if (!isJsonObject(text)) return shut(1007, 'not a JSON object (a DIDComm envelope)', 'ERR_MALFORMED')
      if (draining) return
      const end = begin()
      const reply = async (envelope: string) => {
        const started = performance.now()
        if (ws.readyState !== ws.OPEN) throw new LinkClosedError('the WebSocket is closed')
        ws.send(envelope)
        return report(Buffer.byteLength(envelope), started)
      }
      incoming.push({
        data: new TextEncoder().encode(text),
        mediaType: sniffMediaType(text),
        transferId: crypto.randomUUID(),
        reply,
        duplex: true,
        done: (err?: unknown) => {
          end()
          if (err === undefined) return
          const r = refusalOf(err)
          if (r.delivered) return
          if (r.problem) {
            if (ws.readyState === ws.OPEN) ws.send(packPlaintext(r.problem))
            return
          }
          // an envelope nobody can open is garbage on this socket
          shut(1008, `${r.code}: ${r.message}`, r.code)
        },
      })
    })
  }

  const ping = setInterval(() => {
    for (const ws of sockets) {
      if (!ws.alive) {
        ws.terminate()
        continue
      }
      ws.alive = false
      ws.ping()
    }
  }, o.pingIntervalMs ?? 30_000)
  ping.unref?.()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve())
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${addr.port}/`,
    wsUrl: `${o.tls ? 'wss' : 'ws'}://${host}:${addr.port}/`,
    port: addr.port,
    incoming: () => incoming.iterate(),
    get draining() {
      return draining
    },
    async drain(reason, timeoutMs = 10_000) {
      draining = true
      if (inFlight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined
        await new Promise<void>((resolve) => {
          idle = resolve
          timer = setTimeout(resolve, timeoutMs)
        })
        clearTimeout(timer)
      }
      for (const ws of sockets) ws.close(1001, reason.slice(0, 120))
    },
    async close() {
      clearInterval(ping)
      for (const ws of sockets) ws.terminate()
      wss?.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      incoming.close()
    },
  }
}
