import type { Received, SendOptions, SendReport } from '../../src/transport.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
import { type CarrierTransport, createTransport } from '../../src/wire/create-transport.js'
import { sha256 } from '../../src/wire/digest.js'
import { isBareJson } from '../../src/wire/frame.js'
import { MEDIA_PLAIN, sniffMediaType } from '../../src/wire/media.js'
import type { TransportOptions } from '../../src/wire/options.js'
import type { MqttInbox, MqttPeerLink } from './node.js'
import { base64url } from './topics.js'

export interface MqttReceived extends Received {
  /** The sender's recipient key, or undefined for a bare envelope (no reply address). */
  from: string | undefined
}

export interface MqttTransportOptions extends Omit<TransportOptions, 'onMessage'> {
  /** Handle each message before it is acknowledged (see TransportOptions.onMessage), instead of receive(). */
  onMessage?: (message: MqttReceived) => void | Promise<void>
}

export interface MqttSendOptions extends SendOptions {
  /**
   * Publish a small JSON envelope whole to the peer's inbox, as agents that don't chunk do: one
   * publish, no end-to-end ack (report.confirmed is false). 'auto': when it fits one frame.
   */
  bare?: boolean | 'auto'
  /**
   * Unix time after which the message is worthless (DIDComm expires_time): sent as MQTT 5 message
   * expiry. Read from a plaintext envelope's expires_time when not given.
   */
  expiresTime?: number
}

const SEEN_MEMORY = 4096

/**
 * Everything an inbox receives, from any peer, and sending to any peer's inbox: one core
 * transport per peer link (each with its own reliable session), merged into one stream.
 * Duplicates — a bare envelope published twice, a QoS 1 redelivery — are dropped by content hash
 * or transfer id.
 */
export class MqttTransport {
  private readonly peers = new Map<string, CarrierTransport>()
  private readonly queue = new AsyncQueue<MqttReceived>()
  private readonly seen = new Set<string>()
  private readonly unsubscribe: (() => void)[] = []
  private closed = false

  constructor(
    readonly inbox: MqttInbox,
    private readonly options: MqttTransportOptions = {},
  ) {
    for (const link of inbox.peers()) this.attach(link)
    this.unsubscribe.push(inbox.onPeer((link) => this.attach(link)))
    this.unsubscribe.push(
      inbox.onBareEnvelope(async (b) => {
        const key = `bare:${base64url(await sha256(b.data))}`
        if (this.remember(key)) await this.accept({ data: b.data, mediaType: b.mediaType, transferId: key, from: undefined })
      }),
    )
  }

  get rk(): string {
    return this.inbox.rk
  }

  async send(to: string, envelope: Uint8Array | string, options: MqttSendOptions = {}): Promise<SendReport> {
    const bytes = typeof envelope === 'string' ? new TextEncoder().encode(envelope) : envelope
    const expiresTime = options.expiresTime ?? plaintextExpiry(bytes, options.mediaType)
    const bare = options.bare === true || (options.bare === 'auto' && bytes.length <= this.inbox.node.mtu)
    if (bare && isBareJson(bytes)) {
      const started = Date.now()
      await this.inbox.publishBare(to, bytes, { mediaType: options.mediaType, expiresTime, signal: options.signal })
      return {
        transferId: 'bare',
        envelopeBytes: bytes.length,
        streamBytes: bytes.length,
        compressed: false,
        frames: 1,
        retransmissions: 0,
        confirmed: false,
        durationMs: Date.now() - started,
      }
    }
    const link = this.inbox.link(to)
    link.expiresTime = expiresTime
    return (this.peers.get(to) ?? this.attach(link)).send(bytes, options)
  }

  receive(options: { signal?: AbortSignal } = {}): AsyncIterable<MqttReceived> {
    return this.queue.iterate(options.signal)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    await Promise.all([...this.peers.values()].map((t) => t.close()))
    this.queue.close()
  }

  private attach(link: MqttPeerLink): CarrierTransport {
    const existing = this.peers.get(link.remoteRk)
    if (existing) return existing
    const onMessage = this.options.onMessage
    const t = createTransport(link, {
      // a broker path carries megabytes per round trip
      windowBytes: 4 * 1024 * 1024,
      ...this.options,
      onMessage: onMessage
        ? async (r) => {
            if (this.remember(`${link.remoteRk}:${r.transferId}`)) await onMessage({ ...r, from: link.remoteRk })
          }
        : undefined,
    })
    this.peers.set(link.remoteRk, t)
    if (!onMessage) {
      void (async () => {
        for await (const r of t.receive()) {
          if (this.remember(`${link.remoteRk}:${r.transferId}`)) this.queue.push({ ...r, from: link.remoteRk })
        }
      })()
    }
    return t
  }

  private async accept(r: MqttReceived): Promise<void> {
    if (this.options.onMessage) await this.options.onMessage(r)
    else this.queue.push(r)
  }

  private remember(key: string): boolean {
    if (this.seen.has(key)) return false
    this.seen.add(key)
    if (this.seen.size > SEEN_MEMORY) this.seen.delete(this.seen.values().next().value as string)
    return true
  }
}

/** expires_time of a DIDComm plaintext envelope (the only kind whose headers a transport can read). */
function plaintextExpiry(bytes: Uint8Array, mediaType: string | undefined): number | undefined {
  if (bytes.length > 1024 * 1024 || !isBareJson(bytes)) return undefined
  if ((mediaType ?? sniffMediaType(bytes)) !== MEDIA_PLAIN) return undefined
  try {
    const t = (JSON.parse(new TextDecoder().decode(bytes)) as { expires_time?: unknown }).expires_time
    return typeof t === 'number' ? t : undefined
  } catch {
    return undefined
  }
}
