import type { IPublishPacket, MqttClient } from 'mqtt'
import { FrameTooLargeError, type Link, LinkClosedError, LinkDownError } from '../../src/transport.js'
import { bareEnvelopeMediaType } from '../../src/wire/bare.js'
import { BufferPool } from '../../src/wire/buffer-pool.js'
import { isBareJson } from '../../src/wire/frame.js'
import { sniffMediaType } from '../../src/wire/media.js'
import { type ConnectedClient, connectMqtt, type MqttConnectOptions, SubscriptionRefusedError } from './client.js'
import { instanceId, isTopicSafe, parseTopic, topics } from './topics.js'

export interface MqttNodeOptions extends MqttConnectOptions {
  /** Largest frame we publish. Default 64 KiB, and never more than the broker says it takes. */
  maxFrameBytes?: number
  /** Time-out of each publish (PUBACK). Default 10 s; a publish that times out is a link-down. */
  publishTimeoutMs?: number
  /** Stop addressing one instance of a peer's inbox after this long without hearing it. Default 3 s. */
  unpinAfterMs?: number
  /** Publishes awaiting their PUBACK before publish() waits. Default 16. */
  maxInFlight?: number
}

/** Room for the fixed header, topic, packet id and MQTT 5 properties. */
const PACKET_OVERHEAD = 512
const DEFAULT_FRAME = 64 * 1024

/**
 * One MQTT client serving one or more inboxes. Frames are QoS 1 publishes; the broker's PUBACK is
 * only backpressure — delivery is decided by the core's end-to-end acks.
 */
export class MqttNode {
  readonly iid: string
  readonly mtu: number
  /**
   * Frame buffers lent to the core (Link.frameBuffer), back at each PUBACK: by then neither the
   * socket nor mqtt.js's outgoing store (adapters/mqtt/outgoing-store.ts) holds the frame.
   */
  readonly frames: BufferPool
  private readonly inboxes = new Map<string, MqttInbox>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly slotWaiters: (() => void)[] = []
  private inFlightError: LinkDownError | undefined
  private closed = false

  private constructor(
    readonly conn: ConnectedClient,
    iid: string,
    readonly options: MqttNodeOptions,
  ) {
    this.iid = iid
    const brokerLimit = conn.brokerMaxPacket ? conn.brokerMaxPacket - PACKET_OVERHEAD : Number.POSITIVE_INFINITY
    this.mtu = Math.min(options.maxFrameBytes ?? DEFAULT_FRAME, brokerLimit)
    this.frames = new BufferPool(options.maxInFlight ?? 16, 16 * 1024)
    conn.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet))
  }

  static async connect(broker: string, options: MqttNodeOptions = {}): Promise<MqttNode> {
    const conn = await connectMqtt(broker, options)
    return new MqttNode(conn, await instanceId(conn.clientId), options)
  }

  get client(): MqttClient {
    return this.conn.client
  }

  get connected(): boolean {
    return this.conn.client.connected
  }

  /** Subscribes to an inbox; with `group`, several processes share it ($share/{group}/…). */
  async openInbox(rk: string, options: { group?: string } = {}): Promise<MqttInbox> {
    if (!isTopicSafe(rk)) throw new TypeError(`recipient key is not topic-safe: ${rk}`)
    const existing = this.inboxes.get(rk)
    if (existing) return existing
    const inbox = new MqttInbox(this, rk)
    this.inboxes.set(rk, inbox)
    const wanted = [topics.subscribeInbox(rk, options.group), topics.subscribeInstance(rk, this.iid)]
    const grants = await this.conn.client.subscribeAsync(wanted, { qos: 1 })
    for (const g of grants) {
      if (g.qos === 128 || (g.qos as number) >= 0x80) {
        this.inboxes.delete(rk)
        await this.conn.client.unsubscribeAsync(wanted).catch(() => {})
        throw new SubscriptionRefusedError(g.topic)
      }
    }
    return inbox
  }

  /**
   * Publishes at QoS 1. Up to `maxInFlight` publishes wait for their PUBACK at once; beyond that
   * publish() waits for the oldest (backpressure). A PUBACK that does not come is a link-down: the
   * core's acks, not the broker's, decide what was delivered.
   */
  async publish(
    topic: string,
    payload: Uint8Array,
    properties?: IPublishPacket['properties'],
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.closed) throw new LinkClosedError()
    if (payload.length > this.mtu)
      throw new FrameTooLargeError(`frame of ${payload.length} bytes exceeds the MQTT frame limit ${this.mtu}`)
    // mqtt.js would queue while offline and retry forever; the core retries instead.
    if (!this.conn.client.connected) throw new LinkDownError('not connected to the MQTT broker')
    if (this.inFlightError) {
      const err = this.inFlightError
      this.inFlightError = undefined
      throw err
    }
    while (this.inFlight.size >= (this.options.maxInFlight ?? 16)) {
      signal?.throwIfAborted()
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve))
    }
    const ms = this.options.publishTimeoutMs ?? 10_000
    let timer: ReturnType<typeof setTimeout> | undefined
    const acked = Promise.race([
      this.conn.client.publishAsync(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.length), {
        qos: 1,
        properties: this.conn.protocolVersion === 5 ? properties : undefined,
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LinkDownError(`no PUBACK within ${ms} ms`)), ms)
      }),
    ])
      .then(
        () => this.frames.giveBack(payload),
        (err: unknown) => {
          this.inFlightError = err instanceof LinkDownError ? err : new LinkDownError('publish failed', { cause: err })
        },
      )
      .finally(() => {
        clearTimeout(timer)
        this.inFlight.delete(acked)
        this.slotWaiters.shift()?.()
      })
    this.inFlight.add(acked)
  }

  /** Waits for every publish in flight to be acknowledged by the broker (or to fail). */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight)
    if (this.inFlightError) {
      const err = this.inFlightError
      this.inFlightError = undefined
      throw err
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const inbox of this.inboxes.values()) inbox.closeLinks()
    // let acknowledgements of what is in flight arrive, but never wait on a dead broker
    await Promise.race([Promise.all(this.inFlight), new Promise((r) => setTimeout(r, 1000))])
    await this.conn.client.endAsync(true)
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const t = parseTopic(topic)
    if (!t) return
    const inbox = this.inboxes.get(t.rk)
    if (!inbox) return
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.length)
    if (t.kind === 'bare') inbox.onBare(bytes, packet)
    else inbox.onFrame(t.fromRk, t.fromIid, bytes)
  }
}

export interface BareEnvelope {
  data: Uint8Array
  mediaType: string
  responseTopic?: string
}

/** The inbox of one recipient key: a Link per peer, and bare envelopes published to the inbox. */
export class MqttInbox {
  private readonly links = new Map<string, MqttPeerLink>()
  private readonly peerHandlers = new Set<(link: MqttPeerLink) => void>()
  private readonly bareHandlers = new Set<(b: BareEnvelope) => void>()

  constructor(
    readonly node: MqttNode,
    readonly rk: string,
  ) {}

  /** The Link to a peer inbox (created on first use). */
  link(remoteRk: string): MqttPeerLink {
    if (!isTopicSafe(remoteRk)) throw new TypeError(`recipient key is not topic-safe: ${remoteRk}`)
    let l = this.links.get(remoteRk)
    if (!l) {
      l = new MqttPeerLink(this, remoteRk)
      this.links.set(remoteRk, l)
      for (const h of this.peerHandlers) h(l)
    }
    return l
  }

  peers(): MqttPeerLink[] {
    return [...this.links.values()]
  }

  /** Called for every new peer link, including those a remote opens by sending to us. */
  onPeer(handler: (link: MqttPeerLink) => void): () => void {
    this.peerHandlers.add(handler)
    return () => this.peerHandlers.delete(handler)
  }

  onBareEnvelope(handler: (b: BareEnvelope) => void): () => void {
    this.bareHandlers.add(handler)
    return () => this.bareHandlers.delete(handler)
  }

  /** Publishes a whole envelope, unchunked, to a peer's inbox (for peers that don't speak frames). */
  async publishBare(
    remoteRk: string,
    envelope: Uint8Array,
    options: { mediaType?: string; expiresTime?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.node.publish(
      topics.inbox(remoteRk),
      envelope,
      {
        contentType: options.mediaType ?? sniffMediaType(envelope),
        responseTopic: topics.inbox(this.rk),
        ...expiryProperty(options.expiresTime),
      },
      options.signal,
    )
    // a bare envelope has no end-to-end ack: the broker's PUBACK is all there is
    await this.node.flush()
  }

  onFrame(fromRk: string, fromIid: string, frame: Uint8Array): void {
    this.link(fromRk).deliver(fromIid, frame)
  }

  onBare(data: Uint8Array, packet: IPublishPacket): void {
    // only a whole, parseable DIDComm envelope is delivered; anything else starting with `{` is garbage
    const sniffed = isBareJson(data) ? bareEnvelopeMediaType(data) : undefined
    if (sniffed === undefined) return
    const mediaType = packet.properties?.contentType ?? sniffed
    for (const h of this.bareHandlers) h({ data: data.slice(), mediaType, responseTopic: packet.properties?.responseTopic })
  }

  forget(link: MqttPeerLink): void {
    if (this.links.get(link.remoteRk) === link) this.links.delete(link.remoteRk)
  }

  closeLinks(): void {
    for (const l of this.links.values()) l.markClosed()
  }
}

/**
 * A Link between our inbox and a peer's. Frames go to the peer's inbox (any consumer) until an
 * instance answers; then to that instance, so the rest of a transfer reaches the consumer that
 * holds it. If that instance goes quiet, frames go back to the inbox and another consumer takes over.
 */
export class MqttPeerLink implements Link {
  readonly duplex = true
  /** TCP (or TLS) to the broker and on to the peer: a frame arrives as it was published, or not. */
  readonly intact = true
  /**
   * Unix time after which frames on this link are worthless (from the message's expires_time):
   * MQTT 5 brokers then drop them instead of queueing them for an absent peer.
   */
  expiresTime: number | undefined
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private remoteIid: string | undefined
  private lastHeard = 0
  private closed = false

  constructor(
    private readonly inbox: MqttInbox,
    readonly remoteRk: string,
  ) {}

  get mtu(): number {
    return this.inbox.node.mtu
  }

  /** The instance of the peer we currently address, if any. */
  get pinnedInstance(): string | undefined {
    const unpinAfter = this.inbox.node.options.unpinAfterMs ?? 3000
    return this.remoteIid && Date.now() - this.lastHeard < unpinAfter ? this.remoteIid : undefined
  }

  frameBuffer(bytes: number): Uint8Array {
    return this.inbox.node.frames.take(bytes)
  }

  async send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new LinkClosedError()
    const node = this.inbox.node
    const pinned = this.pinnedInstance
    const topic = pinned
      ? topics.instance(this.remoteRk, pinned, this.inbox.rk, node.iid)
      : topics.group(this.remoteRk, this.inbox.rk, node.iid)
    await node.publish(
      topic,
      frame,
      { contentType: 'application/vnd.didcomm-carrier.frame', ...expiryProperty(this.expiresTime) },
      signal,
    )
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  deliver(fromIid: string, frame: Uint8Array): void {
    if (this.closed) return
    this.remoteIid = fromIid
    this.lastHeard = Date.now()
    for (const h of this.handlers) h(frame)
  }

  markClosed(): void {
    this.closed = true
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
    this.inbox.forget(this)
  }
}

/** MQTT 5 message expiry from a Unix time; nothing when there is none (or it has passed: 1 s). */
function expiryProperty(expiresTime: number | undefined): { messageExpiryInterval?: number } {
  if (expiresTime === undefined) return {}
  return { messageExpiryInterval: Math.max(1, Math.ceil(expiresTime - Date.now() / 1000)) }
}
