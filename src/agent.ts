import { type Resolver, staticSecrets } from './did/document.js'
import type { Jwk } from './didcomm/keys.js'
import { attachmentBytes, base64Attachment, createMessage } from './didcomm/message.js'
import { type Message, type PackEncryptedResult, packEncrypted, type UnpackMetadata, unpack } from './didcomm/pack.js'
import { CarrierError, type Received, type SendOptions, type SendReport } from './transport.js'
import { AsyncQueue } from './wire/async-queue.js'
import { MEDIA_ENCRYPTED } from './wire/media.js'

/** What an agent needs of a channel: send an envelope to an endpoint URI, and what arrives. */
export interface EndpointTransport {
  /** URI schemes handled, with the colon: 'mqtt:', 'ble:', … */
  readonly schemes: readonly string[]
  /** `options.to` is the recipient DID (a bridge needs it for the forward's `next`). */
  send(uri: string, envelope: string, options?: SendOptions & { to?: string }): Promise<SendReport>
  incoming(): AsyncIterable<Received>
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
  /** The endpoint the envelope went to, and how. */
  uri: string
  packed: PackEncryptedResult
  report: SendReport
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

/**
 * Send a message to a DID over whatever channel reaches it: resolve its DIDCommMessaging service,
 * pack (authcrypt when the message has a from, anoncrypt otherwise; forwards for mediators), send
 * through the transport that handles the endpoint's scheme. Receive: unpack, apply the policy,
 * drop duplicates by message id, honour expires_time.
 */
export class Agent {
  private readonly secrets
  private readonly queue = new AsyncQueue<AgentMessage>()
  private readonly seen = new Set<string>()
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

  async send(
    message: Message,
    o: { to: string; signal?: AbortSignal; onProgress?: SendOptions['onProgress']; sign?: boolean; anonymous?: boolean },
  ): Promise<AgentSendResult> {
    const from = o.anonymous ? undefined : (message.from ?? this.did)
    const msg: Message = { ...message, ...(from ? { from } : {}), to: message.to ?? [o.to] }
    if (o.anonymous) delete msg.from
    const packed = await packEncrypted(msg, {
      to: o.to,
      from,
      signFrom: o.sign ? this.signingKid() : undefined,
      resolver: this.resolver,
      secrets: this.secrets,
    })
    const uri = packed.serviceUri
    if (!uri) throw new NoTransportError(`${o.to} has no DIDCommMessaging service endpoint`)
    const scheme = new URL(uri).protocol
    const transport = this.transports.find((t) => t.schemes.includes(scheme))
    if (!transport) throw new NoTransportError(`no transport for ${scheme} endpoints (${uri})`)
    const report = await transport.send(uri, packed.packed, {
      mediaType: MEDIA_ENCRYPTED,
      signal: o.signal,
      onProgress: o.onProgress,
      to: o.to,
    })
    return { uri, packed, report }
  }

  /** A file as a message attachment (base64, byte_count, media_type, filename, hash). */
  sendFile(
    bytes: Uint8Array,
    o: { to: string; filename?: string; mediaType?: string; signal?: AbortSignal; onProgress?: SendOptions['onProgress'] },
  ): Promise<AgentSendResult> {
    const message = createMessage({
      type: 'https://didcomm.org/file-transfer/1.0/file',
      body: {},
      attachments: [base64Attachment(bytes, { filename: o.filename, mediaType: o.mediaType ?? 'application/octet-stream' })],
    })
    return this.send(message, o)
  }

  /** Every message that arrives on any transport, unpacked and checked, each id once. */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterable<AgentMessage> {
    if (!this.started) {
      this.started = true
      for (const t of this.transports) void this.pump(t)
    }
    return this.queue.iterate(options.signal)
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()))
    this.queue.close()
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
        this.seen.add(key)
        if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value as string)
        this.queue.push({ message, metadata })
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
