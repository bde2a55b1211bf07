import { createRequire } from 'node:module'
import type { IncomingEnvelope } from '../../src/agent.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
import { type WebClientOptions, type WebClientTransport, type WebSocketConstructor, webClientTransport } from './client.js'
import { isDidcommWebUri } from './media.js'
import { startWebServer, type WebServer, type WebServerOptions } from './server.js'

export interface WebEndpointTransport extends WebClientTransport {
  /** The server, when the transport listens. */
  readonly server?: WebServer
}

/**
 * `ws`, loaded on the first WebSocket opened: every CLI agent carries this transport, and loading
 * `ws` up front was ~6 MB of each process's RSS (a file listener's idle RSS is most of its peak).
 */
const LazyWebSocket = class {
  constructor(url: string) {
    const { WebSocket } = createRequire(import.meta.url)('ws') as { WebSocket: WebSocketConstructor }
    // a constructor that returns an object makes `new` give that object: the `ws` socket itself
    // biome-ignore lint/correctness/noConstructorReturn: see above
    return new WebSocket(url)
  }
} as unknown as WebSocketConstructor

/**
 * HTTP(S) and WebSocket for an agent in Node: reaches any http(s)/ws(s) endpoint, and with `listen`
 * serves one (POST and WebSocket on one port), both feeding the same incoming stream.
 */
export async function webEndpointTransport(
  o: { listen?: WebServerOptions; client?: WebClientOptions } = {},
): Promise<WebEndpointTransport> {
  const client = webClientTransport({ WebSocket: LazyWebSocket, ...o.client })
  const server = o.listen ? await startWebServer(o.listen) : undefined
  const incoming = new AsyncQueue<IncomingEnvelope>()
  const pump = async (from: AsyncIterable<IncomingEnvelope>) => {
    for await (const e of from) incoming.push(e)
  }
  void pump(client.incoming())
  if (server) void pump(server.incoming())
  return {
    schemes: client.schemes,
    server,
    accepts: isDidcommWebUri,
    send: (uri, envelope, options) => client.send(uri, envelope, options),
    keepOpen: (uri, onOpen) => client.keepOpen(uri, onOpen),
    incoming: () => incoming.iterate(),
    async close() {
      await client.close()
      await server?.close()
      incoming.close()
    },
  }
}
