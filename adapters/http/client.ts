import { type BackoffOptions, backoffDelay } from '../../src/agent/backoff.js'
import type { EndpointTransport, IncomingEnvelope } from '../../src/agent.js'
import { LinkDownError, type SendOptions, type SendReport, throwIfAborted } from '../../src/transport.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
import { MEDIA_ENCRYPTED, sniffMediaType } from '../../src/wire/media.js'
import { HttpStatusError, WebSocketError } from './errors.js'
import { bareMediaType, HTTP_SCHEMES, isDidcommWebUri, WS_SCHEMES } from './media.js'

/** What we need of a WebSocket: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: never) => void): void
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export interface WebClientOptions {
  /** Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch
  /** Default globalThis.WebSocket (Node 20 has none: pass the `ws` package's). */
  WebSocket?: WebSocketConstructor
  /** Bound on one HTTP exchange or one WebSocket opening, in ms. Default 30 000. */
  timeoutMs?: number
  /**
   * Reconnect delays of a kept WebSocket: capped exponential back-off with jitter (backoffDelay),
   * default 250 … 10 000 ms; `random` gives tests a fixed sequence.
   */
  backoff?: BackoffOptions
}

/** The client side of DIDComm over HTTP(S) and WebSocket, as an agent's transport. Runs in browsers. */
export interface WebClientTransport extends EndpointTransport {
  /**
   * Keep a WebSocket to `uri` open: reopened with backoff whenever it drops, `onOpen` called after
   * every (re)opening (live pickup asks again for live delivery there). Returns a function that lets it go.
   */
  keepOpen(uri: string, onOpen?: () => void): () => void
}

const OPEN = 1

function report(envelope: string, started: number, confirmed: boolean): SendReport {
  const bytes = new TextEncoder().encode(envelope).length
  return {
    transferId: crypto.randomUUID(),
    envelopeBytes: bytes,
    streamBytes: bytes,
    compressed: false,
    frames: 1,
    retransmissions: 0,
    confirmed,
    durationMs: performance.now() - started,
  }
}

/** One WebSocket to one URI, opened on demand, reopened with backoff while somebody keeps it. */
class WsConnection {
  private socket?: WebSocketLike
  private opening?: Promise<WebSocketLike>
  private attempt = 0
  private timer?: ReturnType<typeof setTimeout>
  private closed = false
  readonly keepers = new Set<() => void>()

  constructor(
    private readonly uri: string,
    private readonly o: Required<Pick<WebClientOptions, 'timeoutMs'>> & WebClientOptions,
    private readonly onText: (text: string, reply: IncomingEnvelope['reply']) => void,
  ) {}

  open(): Promise<WebSocketLike> {
    if (this.socket && this.socket.readyState === OPEN) return Promise.resolve(this.socket)
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined
    })
    return this.opening
  }

  private connect(): Promise<WebSocketLike> {
    const Ctor = this.o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (!Ctor) throw new WebSocketError('no WebSocket in this runtime: pass one (the `ws` package in Node 20)')
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike
      try {
        ws = new Ctor(this.uri)
      } catch (err) {
        reject(new WebSocketError(`${this.uri}: ${(err as Error).message}`))
        return
      }
      const timer = setTimeout(() => {
        ws.close()
        reject(new LinkDownError(`${this.uri} did not open within ${this.o.timeoutMs} ms`))
      }, this.o.timeoutMs)
      let opened = false
      ws.addEventListener('open', () => {
        opened = true
        clearTimeout(timer)
        this.socket = ws
        this.attempt = 0
        resolve(ws)
        for (const k of this.keepers) k()
      })
      ws.addEventListener('message', (event: { data: unknown }) => {
        if (typeof event.data !== 'string') return // one envelope per text frame; binary frames are not ours
        this.onText(event.data, async (envelope, options) => this.sendOn(ws, envelope, options))
      })
      ws.addEventListener('error', () => {
        if (!opened) {
          clearTimeout(timer)
          reject(new LinkDownError(`${this.uri} is unreachable`))
        }
      })
      ws.addEventListener('close', () => {
        clearTimeout(timer)
        if (this.socket === ws) this.socket = undefined
        if (!opened) reject(new LinkDownError(`${this.uri} closed before it opened`))
        this.scheduleReopen()
      })
    })
  }

  private scheduleReopen(): void {
    if (this.closed || this.keepers.size === 0 || this.timer) return
    const delay = backoffDelay(this.attempt++, this.o.backoff)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.open().catch(() => this.scheduleReopen())
    }, delay)
  }

  sendOn(ws: WebSocketLike, envelope: string, _options?: SendOptions): SendReport {
    const started = performance.now()
    if (ws.readyState !== OPEN) throw new LinkDownError(`the WebSocket to ${this.uri} is closed`)
    ws.send(envelope)
    return report(envelope, started, false)
  }

  release(keeper: () => void): void {
    this.keepers.delete(keeper)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    this.socket?.close(1000, 'closing')
  }
}

/** DIDComm over HTTP(S) POST and WebSocket text frames, to any http(s)/ws(s) endpoint. */
export function webClientTransport(options: WebClientOptions = {}): WebClientTransport {
  const o = { timeoutMs: 30_000, ...options }
  const incoming = new AsyncQueue<IncomingEnvelope>()
  const sockets = new Map<string, WsConnection>()
  const push = (text: string, reply?: IncomingEnvelope['reply'], mediaType?: string) =>
    incoming.push({
      data: new TextEncoder().encode(text),
      mediaType: mediaType ?? sniffMediaType(text),
      transferId: crypto.randomUUID(),
      ...(reply ? { reply, duplex: true } : {}),
    })
  const connection = (uri: string) => {
    let c = sockets.get(uri)
    if (!c) {
      c = new WsConnection(uri, o, (text, reply) => push(text, reply))
      sockets.set(uri, c)
    }
    return c
  }

  async function post(uri: string, envelope: string, so: SendOptions = {}): Promise<SendReport> {
    throwIfAborted(so.signal)
    const started = performance.now()
    const timeout = AbortSignal.timeout(o.timeoutMs)
    const signal = so.signal ? AbortSignal.any([so.signal, timeout]) : timeout
    let res: Response
    try {
      res = await (o.fetch ?? globalThis.fetch)(uri, {
        method: 'POST',
        headers: { 'content-type': so.mediaType ?? MEDIA_ENCRYPTED },
        body: envelope,
        signal,
      })
    } catch (err) {
      throwIfAborted(so.signal)
      throw new LinkDownError(`${uri} is unreachable: ${(err as Error).cause ?? (err as Error).message}`, { cause: err })
    }
    const text = await res.text()
    if (!res.ok) throw new HttpStatusError(uri, res.status, text)
    const type = bareMediaType(res.headers.get('content-type'))
    // return_route: the answer came in the response body
    if (text && type.startsWith('application/didcomm')) push(text, undefined, type)
    return report(envelope, started, true)
  }

  return {
    schemes: [...HTTP_SCHEMES, ...WS_SCHEMES],
    accepts: isDidcommWebUri,
    async send(uri, envelope, so) {
      const scheme = new URL(uri).protocol
      if ((HTTP_SCHEMES as readonly string[]).includes(scheme)) return post(uri, envelope, so)
      throwIfAborted(so?.signal)
      const c = connection(uri)
      return c.sendOn(await c.open(), envelope, so)
    },
    keepOpen(uri, onOpen) {
      const c = connection(uri)
      const keeper = () => onOpen?.()
      c.keepers.add(keeper)
      c.open().then(
        () => undefined,
        () => undefined, // reopened with backoff by the close handler
      )
      return () => c.release(keeper)
    },
    incoming: () => incoming.iterate(),
    async close() {
      for (const c of sockets.values()) c.close()
      incoming.close()
    },
  }
}
