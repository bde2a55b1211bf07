import type { EndpointTransport, IncomingEnvelope } from './agent.js'
import type { SendOptions, Transport } from './transport.js'
import { AsyncQueue } from './wire/async-queue.js'

/**
 * Transports of point-to-point links (a BLE connection, an NFC tap) as one EndpointTransport's
 * incoming side: every envelope that arrives can be answered over the transport it came by
 * (DIDComm return_route).
 */
export class LinkInbox {
  private readonly queue = new AsyncQueue<IncomingEnvelope>()
  private readonly transports: Transport[] = []

  serve(t: Transport): Transport {
    this.transports.push(t)
    void (async () => {
      for await (const r of t.receive()) {
        this.queue.push({ ...r, duplex: true, reply: (envelope: string, options?: SendOptions) => t.send(envelope, options) })
      }
    })()
    return t
  }

  incoming(): AsyncIterable<IncomingEnvelope> {
    return this.queue.iterate()
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()))
    this.queue.close()
  }
}

/**
 * An agent's transport over one link whose peer is whoever is at the other end (the reader a
 * phone is tapped on, the phone on the reader): sending to an endpoint of these schemes sends down
 * the link; what arrives can be answered on it.
 */
export function oneLinkEndpointTransport(t: Transport, schemes: readonly string[]): EndpointTransport {
  const inbox = new LinkInbox()
  inbox.serve(t)
  return {
    schemes,
    bytes: true,
    send: (_uri, envelope: string | Uint8Array, options) => t.send(envelope, options),
    incoming: () => inbox.incoming(),
    close: () => inbox.close(),
  }
}
