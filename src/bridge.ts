import type { AgentIdentity, EndpointTransport } from './agent.js'
import { type Resolver, staticSecrets } from './did/document.js'
import { endpointOf, FORWARD_TYPE, forwardPayload, unpack, wrapForward } from './didcomm/pack.js'
import { CarrierError, type Received, type SendOptions, type SendReport, type Transport } from './transport.js'
import { MEDIA_ENCRYPTED } from './wire/media.js'

/**
 * Relays envelopes between a local link (a device on BLE or NFC, as a Transport) and remote
 * endpoints (MQTT inboxes, through an EndpointTransport) without reading them: it unwraps only the
 * routing 2.0 forward addressed to its own key, and looks at `next`. A `next` whose endpoint is the
 * bridge's own inbox is a device behind the bridge: the envelope goes down the local link;
 * anything else goes to that DID's endpoint.
 */
export class Bridge {
  private readonly secrets
  private running: Promise<unknown> | undefined

  constructor(
    private readonly o: {
      identity: AgentIdentity
      resolver: Resolver
      /** The device side. */
      local: Transport
      /** The network side; its incoming() are the bridge's own inbox. */
      remote: EndpointTransport
      /** The bridge's own inbox endpoint (its DID document's service URI). */
      ownEndpoint: string
      /** An envelope refused (not a forward for us, no route, the send failed); the bridge goes on. */
      onError?: (error: unknown) => void
      /** Called after each relayed envelope. */
      onRelay?: (direction: 'toRemote' | 'toLocal', next: string, bytes: number) => void
    },
  ) {
    this.secrets = staticSecrets(o.identity.secrets)
  }

  start(): void {
    this.running ??= Promise.all([this.pump(this.o.local.receive()), this.pump(this.o.remote.incoming())])
  }

  async close(): Promise<void> {
    await this.o.local.close()
    await this.o.remote.close()
    await this.running
  }

  private async pump(source: AsyncIterable<Received>): Promise<void> {
    for await (const r of source) {
      try {
        await this.relay(r.data)
      } catch (err) {
        this.o.onError?.(err)
      }
    }
  }

  private async relay(data: Uint8Array): Promise<void> {
    const { message } = await unpack(data, { resolver: this.o.resolver, secrets: this.secrets, requireEncrypted: true })
    if (message.type !== FORWARD_TYPE)
      throw new CarrierError('ERR_NOT_A_FORWARD', `the bridge only relays forwards addressed to it (got ${message.type})`)
    const { next, envelope } = forwardPayload(message)
    const uri = await endpointOf(next, this.o.resolver)
    if (!uri) throw new CarrierError('ERR_NO_ROUTE', `${next} has no DIDCommMessaging endpoint`)
    const bytes = new TextEncoder().encode(envelope)
    if (uri === this.o.ownEndpoint) {
      await this.o.local.send(bytes, { mediaType: MEDIA_ENCRYPTED })
      this.o.onRelay?.('toLocal', next, bytes.length)
    } else {
      await this.o.remote.send(uri, envelope, { mediaType: MEDIA_ENCRYPTED })
      this.o.onRelay?.('toRemote', next, bytes.length)
    }
  }
}

/**
 * The device side of a bridge, for an Agent: reaches endpoints of the given schemes (MQTT by
 * default) by wrapping each envelope in a forward for the bridge and sending it down the local link;
 * what the bridge passes down arrives as incoming envelopes.
 */
export function bridgedTransport(o: {
  /** The link to the bridge (e.g. a BLE central), as a Transport. */
  local: Transport
  /** The bridge's DID (its key agreement keys receive the forwards). */
  bridge: string
  resolver: Resolver
  schemes?: readonly string[]
}): EndpointTransport {
  return {
    schemes: o.schemes ?? ['mqtt:', 'mqtts:', 'ws:', 'wss:'],
    async send(_uri: string, envelope: string, options?: SendOptions & { to?: string }): Promise<SendReport> {
      if (!options?.to) throw new CarrierError('ERR_NO_ROUTE', 'a bridged send needs the recipient DID (options.to)')
      const wrapped = await wrapForward(envelope, { next: options.to, hop: o.bridge, resolver: o.resolver })
      return o.local.send(wrapped, { ...options, mediaType: MEDIA_ENCRYPTED })
    },
    incoming: () => o.local.receive(),
    close: () => o.local.close(),
  }
}
