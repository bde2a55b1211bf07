import type { AgentIdentity, EndpointTransport } from './agent.js'
import { type Resolver, staticSecrets } from './did/document.js'
import { addresseeOf, endpointOf, FORWARD_TYPE, forwardPayload, routeEnvelope, unpack, wrapForward } from './didcomm/pack.js'
import { CarrierError, type Received, type SendOptions, type SendReport, type Transport, uriScheme } from './transport.js'
import { MEDIA_ENCRYPTED } from './wire/media.js'

/**
 * Relays envelopes between a local link (a device on BLE or NFC, as a Transport) and remote
 * endpoints (MQTT inboxes, through an EndpointTransport) without reading them: it unwraps only the
 * routing 2.0 forward addressed to its own key, and looks at `next`. A `next` whose endpoint is the
 * bridge's own inbox is a device behind the bridge: the envelope goes down the local link;
 * anything else is routed as a sender would route it (wrapped in a forward for `next`'s mediator
 * when its service goes through one) and sent to an endpoint the remote transport reaches.
 * An envelope for someone else arriving on the bridge's inbox is an answer on the link the device's
 * message went by (return_route: a mediator's grant, pickup deliveries, live mode): it goes down
 * the local link, so a device behind the bridge can use a mediator.
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
    this.running ??= Promise.all([
      this.pump(this.o.local.receive(), (data) => this.relay(data)),
      this.pump(this.o.remote.incoming(), (data) => this.fromRemote(data)),
    ])
  }

  async close(): Promise<void> {
    await this.o.local.close()
    await this.o.remote.close()
    await this.running
  }

  private async pump(source: AsyncIterable<Received>, handle: (data: Uint8Array) => Promise<void>): Promise<void> {
    for await (const r of source) {
      try {
        await handle(r.data)
      } catch (err) {
        this.o.onError?.(err)
      }
    }
  }

  private async fromRemote(data: Uint8Array): Promise<void> {
    const addressee = addresseeOf(new TextDecoder().decode(data))
    if (addressee === undefined || addressee === this.o.identity.did) return this.relay(data)
    // an answer on the link (return_route) for the device behind the bridge
    await this.o.local.send(data, { mediaType: MEDIA_ENCRYPTED })
    this.o.onRelay?.('toLocal', addressee, data.length)
  }

  private reachable = (uri: string): boolean => {
    const scheme = uriScheme(uri)
    if (!scheme) return false
    return this.o.remote.schemes.includes(scheme) && (this.o.remote.accepts?.(uri) ?? true)
  }

  private async relay(data: Uint8Array): Promise<void> {
    const { message } = await unpack(data, { resolver: this.o.resolver, secrets: this.secrets, requireEncrypted: true })
    if (message.type !== FORWARD_TYPE)
      throw new CarrierError('ERR_NOT_A_FORWARD', `the bridge only relays forwards addressed to it (got ${message.type})`)
    const { next, envelope } = forwardPayload(message)
    const uri = await endpointOf(next, this.o.resolver)
    if (!uri) throw new CarrierError('ERR_NO_ROUTE', `${next} has no DIDCommMessaging endpoint`)
    if (uri === this.o.ownEndpoint) {
      const bytes = new TextEncoder().encode(envelope)
      await this.o.local.send(bytes, { mediaType: MEDIA_ENCRYPTED })
      this.o.onRelay?.('toLocal', next, bytes.length)
      return
    }
    const routed = await routeEnvelope(envelope, next, { resolver: this.o.resolver, acceptUri: this.reachable })
    if (!routed.uri) throw new CarrierError('ERR_NO_ROUTE', `${next} has no DIDCommMessaging endpoint the bridge reaches`)
    await this.o.remote.send(routed.uri, routed.envelope, { mediaType: MEDIA_ENCRYPTED })
    this.o.onRelay?.('toRemote', next, new TextEncoder().encode(routed.envelope).length)
  }
}

/**
 * The device side of a bridge, for an Agent: reaches endpoints of the given schemes (MQTT by
 * default) by wrapping each envelope in a forward for the bridge and sending it down the local link,
 * its `next` the DID the envelope is encrypted for (the recipient, or the first mediator the agent
 * already wrapped it for); what the bridge passes down arrives as incoming envelopes.
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
      const next = addresseeOf(envelope) ?? options?.to
      if (!next) throw new CarrierError('ERR_NO_ROUTE', 'a bridged send needs the recipient DID (options.to)')
      const wrapped = await wrapForward(envelope, { next, hop: o.bridge, resolver: o.resolver })
      return o.local.send(wrapped, { ...options, mediaType: MEDIA_ENCRYPTED })
    },
    incoming: () => o.local.receive(),
    close: () => o.local.close(),
  }
}
