import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP load balancer of the test's own, as operators put in front of several instances: each
 * connection goes to the next backend in turn; a backend that refuses the connection is skipped
 * for the next one (a connection is refused only when every backend refuses it). Bytes are piped
 * as they are; when either side closes or dies, so does the other.
 */
export class TcpBalancer {
  private next = 0
  private readonly open = new Set<Socket>()
  /** Connections per backend index, for the test to look at. */
  readonly connections: number[]

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly backends: number[],
  ) {
    this.connections = backends.map(() => 0)
  }

  static async start(backends: number[], port = 0): Promise<TcpBalancer> {
    let balancer: TcpBalancer | undefined
    const server = createServer((client) => balancer?.accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    balancer = new TcpBalancer(server, (server.address() as { port: number }).port, backends)
    return balancer
  }

  private accept(client: Socket): void {
    this.open.add(client)
    client.once('close', () => this.open.delete(client))
    client.on('error', () => client.destroy())
    client.pause()
    this.route(client, 0)
  }

  private route(client: Socket, tried: number): void {
    const i = this.next++ % this.backends.length
    const upstream = createConnection({ host: '127.0.0.1', port: this.backends[i] as number })
    upstream.once('error', () => {
      upstream.destroy()
      if (!connected && tried + 1 < this.backends.length && !client.destroyed) {
        this.route(client, tried + 1)
        return
      }
      client.destroy()
    })
    let connected = false
    upstream.once('connect', () => {
      connected = true
      this.connections[i] = (this.connections[i] ?? 0) + 1
      this.open.add(upstream)
      upstream.once('close', () => {
        this.open.delete(upstream)
        client.destroy()
      })
      client.once('close', () => upstream.destroy())
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
