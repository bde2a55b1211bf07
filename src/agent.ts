import { type Resolver, staticSecrets } from './did/document.js'
import type { Jwk } from './didcomm/keys.js'
import { attachmentBytes, base64Attachment, createMessage } from './didcomm/message.js'
import { type Message, type PackEncryptedResult, packEncrypted, type UnpackMetadata, unpack } from './didcomm/pack.js'
import { CarrierError, type Received, type SendOptions, type SendReport } from './transport.js'
import { AsyncQueue } from './wire/async-queue.js'
import { MEDIA_ENCRYPTED } from './wire/media.js'

/** Sends an envelope back over the link another one arrived by. */
export type ReplyOnLink = (envelope: string, options?: SendOptions) => Promise<SendReport>

/** An envelope as it arrived; `reply` when the transport can answer on the same link (return_route). */
export interface IncomingEnvelope extends Received {
  reply?: ReplyOnLink
}

/** What an agent needs of a channel: send an envelope to an endpoint URI, and what arrives. */
export interface EndpointTransport {
  /** URI schemes handled, with the colon: 'mqtt:', 'ble:', … */
  readonly schemes: readonly string[]
  /** `options.to` is the recipient DID (a bridge needs it for the forward's `next`). */
  send(uri: string, envelope: string, options?: SendOptions & { to?: string }): Promise<SendReport>
  incoming(): AsyncIterable<IncomingEnvelope>
  close(): Promise<void>
}

export interface AgentIdentity {
  did: string
  secrets: (Jwk & { kid: string })[]
}

export interface AgentPolicy {
  /** Refuse messages that are neither authcrypted nor signed. Default false. */
  requireAuthenticated?: boolean
  /** Refuse plaintext messages. Default true. */
  requireEncrypted?: boolean
}

export interface AgentSendResult {
  /** The endpoint the envelope went to; 'return_route' when it went back over the link the recipient's message came by. */
  uri: string
  packed: PackEncryptedResult
  report: SendReport
}

export interface AgentSendOptions {
  /** The recipient DID. */
  to: string
  signal?: AbortSignal
  onProgress?: SendOptions['onProgress']
  /** Sign inside the encryption (non-repudiation). */
  sign?: boolean
  /** Anoncrypt, without `from`. */
  anonymous?: boolean
  /** Ask the recipient to answer over the link this message goes by (DIDComm return_route). */
  returnRoute?: 'all' | 'thread'
  /** Compress the envelope on the wire (SendOptions.compress); false for envelopes of random bytes. */
  compress?: SendOptions['compress']
}

export interface AgentMessage {
  message: Message
  metadata: UnpackMetadata
}

export class NoTransportError extends CarrierError {
  constructor(message: string) {
    super('ERR_NO_TRANSPORT', message)
  }
}

const SEEN_IDS = 4096
const RETURN_ROUTES = 1024

/** A sender that asked for return_route: answers to it go back over the link its message came by. */
interface ReturnRoute {
  reply: ReplyOnLink
  /** return_route 'thread': only answers in this thread. */
  thid?: string
}

/**
 * Send a message to a DID over whatever channel reaches it: resolve its DIDCommMessaging service,
 * pack (authcrypt when the message has a from, anoncrypt otherwise; forwards for mediators), send
 * through the transport that handles the endpoint's scheme. Receive: unpack, apply the policy,
 * drop duplicates by message id, honour expires_time. A message that asks for return_route
 * ('all' or 'thread') is answered over the link it came by, which is how a device with no endpoint
 * of its own (a phone on a reader, a BLE central) hears back.
 */
export class Agent {
  private readonly secrets
  private readonly queue = new AsyncQueue<AgentMessage>()
  private readonly seen = new Set<string>()
  private readonly returnRoutes = new Map<string, ReturnRoute>()
  private readonly interceptors = new Set<(m: AgentMessage) => boolean>()
  private started = false

  constructor(
    readonly identity: AgentIdentity,
    private readonly resolver: Resolver,
    private readonly transports: EndpointTransport[],
    private readonly policy: AgentPolicy = {},
    private readonly onError?: (error: unknown) => void,
  ) {
    this.secrets = staticSecrets(identity.secrets)
  }

  get did(): string {
    return this.identity.did
  }

  async send(message: Message, o: AgentSendOptions): Promise<AgentSendResult> {
    const from = o.anonymous ? undefined : (message.from ?? this.did)
    const msg: Message = {
      ...message,
      ...(from ? { from } : {}),
      to: message.to ?? [o.to],
      ...(o.returnRoute ? { return_route: o.returnRoute } : {}),
    }
    if (o.anonymous) delete msg.from
    const packOptions = {
      to: o.to,
      from,
      signFrom: o.sign ? this.signingKid() : undefined,
      resolver: this.resolver,
      secrets: this.secrets,
    }
    const sendOptions = {
      mediaType: MEDIA_ENCRYPTED,
      signal: o.signal,
      onProgress: o.onProgress,
      to: o.to,
      ...(o.compress !== undefined ? { compress: o.compress } : {}),
    }
    const route = this.returnRoutes.get(o.to)
    if (route && (route.thid === undefined || route.thid === msg.thid)) {
      const packed = await packEncrypted(msg, { ...packOptions, forward: false })
      try {
        return { uri: 'return_route', packed, report: await route.reply(packed.packed, sendOptions) }
      } catch (err) {
        // the link is gone: forget it and go by the recipient's endpoint
        if (!(err instanceof CarrierError)) throw err
        this.returnRoutes.delete(o.to)
      }
    }
    const reachable = (uri: string) => this.transportFor(uri) !== undefined
    const packed = await packEncrypted(msg, { ...packOptions, acceptUri: reachable })
    const uri = packed.serviceUri
    if (!uri) throw new NoTransportError(`${o.to} has no DIDCommMessaging service endpoint this agent can reach`)
    const transport = this.transportFor(uri)
    if (!transport) throw new NoTransportError(`no transport for ${uri}`)
    const report = await transport.send(uri, packed.packed, sendOptions)
    return { uri, packed, report }
  }

  private transportFor(uri: string): EndpointTransport | undefined {
    let scheme: string
    try {
      scheme = new URL(uri).protocol
    } catch {
      return undefined
    }
    return this.transports.find((t) => t.schemes.includes(scheme))
  }

  /** A file as a message attachment (base64, byte_count, media_type, filename, hash). */
  sendFile(bytes: Uint8Array, o: AgentSendOptions & { filename?: string; mediaType?: string }): Promise<AgentSendResult> {
    const message = createMessage({
      type: 'https://didcomm.org/file-transfer/1.0/file',
      body: {},
      attachments: [base64Attachment(bytes, { filename: o.filename, mediaType: o.mediaType ?? 'application/octet-stream' })],
    })
    return this.send(message, o)
  }

  /** Every message that arrives on any transport, unpacked and checked, each id once. */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterable<AgentMessage> {
    this.start()
    return this.queue.iterate(options.signal)
  }

  /**
   * Sees every message before messages() does; a handler that returns true takes it (a protocol
   * waiting for its answers, e.g. a file sender for the receiver's status). Returns the remover.
   */
  intercept(handler: (m: AgentMessage) => boolean): () => void {
    this.interceptors.add(handler)
    this.start()
    return () => this.interceptors.delete(handler)
  }

  private start(): void {
    if (this.started) return
    this.started = true
    for (const t of this.transports) void this.pump(t)
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()))
    this.queue.close()
  }

  private rememberReturnRoute(message: Message, reply: ReplyOnLink | undefined): void {
    const asked = message.return_route
    if (!reply || !message.from || (asked !== 'all' && asked !== 'thread')) return
    const from = message.from.split('#')[0] as string
    this.returnRoutes.delete(from)
    this.returnRoutes.set(from, { reply, thid: asked === 'thread' ? (message.thid ?? message.id) : undefined })
    if (this.returnRoutes.size > RETURN_ROUTES) this.returnRoutes.delete(this.returnRoutes.keys().next().value as string)
  }

  private signingKid(): string {
    const k = this.identity.secrets.find((s) => s.crv === 'Ed25519' || s.crv === 'P-256' || s.crv === 'secp256k1')
    if (!k) throw new CarrierError('ERR_NO_SIGNING_KEY', `${this.did} has no signing key among its secrets`)
    return k.kid
  }

  private async pump(t: EndpointTransport): Promise<void> {
    for await (const r of t.incoming()) {
      try {
        const { message, metadata } = await unpack(r.data, {
          resolver: this.resolver,
          secrets: this.secrets,
          requireAuthenticated: this.policy.requireAuthenticated,
          requireEncrypted: this.policy.requireEncrypted ?? true,
        })
        const key = `${message.from ?? ''}|${message.id}`
        if (this.seen.has(key)) continue
        this.rememberReturnRoute(message, r.reply)
        this.seen.add(key)
        if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value as string)
        const m = { message, metadata }
        if (![...this.interceptors].some((h) => h(m))) this.queue.push(m)
      } catch (err) {
        this.onError?.(err)
      }
    }
  }
}

export function createAgent(o: {
  identity: AgentIdentity
  resolver: Resolver
  transports: EndpointTransport[]
  policy?: AgentPolicy
  onError?: (error: unknown) => void
}): Agent {
  return new Agent(o.identity, o.resolver, o.transports, o.policy, o.onError)
}

/** The files attached to a message, checked against their hash. */
export function receivedFiles(m: Message): { filename?: string; mediaType?: string; bytes: Uint8Array }[] {
  return (m.attachments ?? [])
    .filter((a) => typeof a.data.base64 === 'string')
    .map((a) => ({ filename: a.filename, mediaType: a.media_type, bytes: attachmentBytes(a) }))
}
