import type { AddressInfo, Server } from 'node:net'
import { CarrierError } from '../../src/transport.js'
import { loadOptional } from '../optional.js'
import { skipPacketIdCache } from './packet-numbers.js'

export interface EmbeddedBroker {
  url: string
  port: number
  close(): Promise<void>
}

export class PacketTooLargeError extends CarrierError {
  constructor(size: number, max: number) {
    super('ERR_FRAME_TOO_LARGE', `publish of ${size} bytes exceeds the broker's ${max}-byte limit`)
  }
}

type AedesModule = {
  Aedes: {
    createBroker(opts?: Record<string, unknown>): Promise<AedesInstance>
  }
}
type AedesInstance = {
  handle: (socket: unknown) => void
  authorizePublish?: unknown
  close(cb?: () => void): void
}

/**
 * aedes (pure JS, MQTT 3.1.1) on 127.0.0.1 for demos and tests. aedes has no packet size limit of
 * its own, so publishes larger than maxPacketBytes are refused here.
 */
export async function startEmbeddedBroker(
  options: {
    port?: number
    host?: string
    maxPacketBytes?: number
    /** Sees every publish a client makes (topic, payload bytes): for tests that count what the broker forwards. */
    onPublish?: (topic: string, bytes: number) => void
  } = {},
): Promise<EmbeddedBroker> {
  const { Aedes } = await loadOptional<AedesModule>('aedes', 'the embedded MQTT broker')
  await skipPacketIdCache()
  const net = await import('node:net')
  const max = options.maxPacketBytes ?? 1024 * 1024
  const broker = await Aedes.createBroker({
    authorizePublish: (_client: unknown, packet: { payload: Buffer | string }, cb: (err: Error | null) => void) => {
      const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length
      if (size <= max) options.onPublish?.((packet as { topic?: string }).topic ?? '', size)
      cb(size > max ? new PacketTooLargeError(size, max) : null)
    },
  })
  const server: Server = net.createServer((socket) => {
    // small frames answered at once: no Nagle on the broker's side either
    socket.setNoDelay(true)
    broker.handle(socket)
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
        // connections still open keep server.close waiting; aedes closed them above
      }),
  }
}
