import { AGENT_FEATURES, answerCompat, automaticAnswer, PendingRequests } from './agent/answers.js'
import { SeenIds } from './agent/seen.js'
import { didOf, type Resolver, resolveOrThrow, staticSecrets } from './did/document.js'
import type { DecryptCompat } from './didcomm/jwe.js'
import type { Jwk } from './didcomm/keys.js'
import { attachmentBytes, base64Attachment, createMessage } from './didcomm/message.js'
import {
  endpointOf,
  type Message,
  type PackEncryptedResult,
  packEncrypted,
  type UnpackMetadata,
  type UnpackOptions,
  unpack,
} from './didcomm/pack.js'
import type { Feature } from './protocols/discover-features.js'
import { problemReport, RefusedMessageError } from './protocols/report-problem.js'
import { ReceiveQuota, ReceiveQuotaError, type ReceiveQuotaOptions } from './receive-quota.js'
import { CarrierError, type Received, type SendOptions, type SendReport, uriScheme } from './transport.js'
import { AsyncQueue } from './wire/async-queue.js'
import { MEDIA_ENCRYPTED } from './wire/media.js'

/** Sends an envelope back over the link another one arrived by. */
export type ReplyOnLink = (envelope: string, options?: SendOptions) => Promise<SendReport>

/** An envelope as it arrived; `reply` when the transport can answer on the same link (return_route). */
export interface IncomingEnvelope extends Received {
  reply?: ReplyOnLink
  /** `reply` stays usable after the first answer (a socket, an MQTT inbox, a BLE link): live delivery needs it. */
  duplex?: boolean
  /**
   * Called once by whoever handled the envelope: without an error when it was taken (an HTTP
   * server then answers 202 unless `reply` answered first), with one when it was refused.
   */
  done?: (error?: unknown) => void
}

/** What an agent needs of a channel: send an envelope to an endpoint URI, and what arrives. */
export interface EndpointTransport {
  /** URI schemes handled, with the colon: 'mqtt:', 'ble:', … */
  readonly schemes: readonly string[]
  /** When several transports share a scheme (ws: is MQTT's and DIDComm's): does this one serve this URI? */
  accepts?(uri: string): boolean
  /** `options.to` is the recipient DID (a bridge needs it for the forward's `next`). */
  send(uri: string, envelope: string, options?: SendOptions & { to?: string }): Promise<SendReport>
  /** This transport's send() also takes bytes (a Uint8Array) for the envelope: a link (MQTT, BLE, NFC), not HTTP. */
  readonly bytes?: boolean
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
  /** How long a one-answer exchange (HTTP) is held open for the answer a return_route sender asked for. Default 5000 ms. */
  returnRouteHoldMs?: number
  /** Per-sender receive quota (sender: the authenticated DID, else the transport's sender, else 'anonymous'); none by default. */
  quota?: ReceiveQuotaOptions
  /**
   * Messages the quota does not count: ones the agent itself asked for and bounds elsewhere (the
   * file parts a FolderReceiver requested by its status, capped by its own size limits).
   */
  quotaExempt?: (message: Message, metadata: UnpackMetadata) => boolean
  /**
   * Also read these non-standard envelopes (unpack's `compat`). None by default: an agent reads the
   * standard forms only. The mediator sets `veramoAuthcrypt` (Veramo 7 sends every request to a
   * mediator in its own authcrypt variant; single-recipient envelopes only, skid still proven).
   */
  compat?: DecryptCompat
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
  /** Use this one of the recipient's endpoints (say, its ws:// one for live pickup) instead of the first reachable. */
  via?: string
  /** Compress the envelope on the wire (SendOptions.compress); false for envelopes of random bytes. */
  compress?: SendOptions['compress']
  /** 'veramo': authcrypt in Veramo 7's variant, the only authcrypt it opens (packEncrypted's compat). */
  compat?: 'veramo'
}

export interface AgentMessage {
  message: Message
  metadata: UnpackMetadata
}

/** What a role on top of the agent (a mediator) adds: more features, and first look at each message. */
export interface AgentExtras {
  /** Disclosed by discover-features beside the agent's own protocols and transports. */
  features?: Feature[]
  /**
   * Sees each message before it is queued for messages(); true = handled (not queued). The envelope's
   * `done` is called when it resolves, with the error when it throws. `{ pending }` = handled, and
   * finished in the background: the next envelope is handled meanwhile (a mediator's enqueues then
   * commit together), and `done` is called when `pending` settles.
   */
  handle?: (m: AgentMessage, envelope: IncomingEnvelope) => Promise<boolean | { pending: Promise<void> }>
  /** Opens JWE layers instead of this thread (UnpackOptions.decrypt): e.g. adapters/threads' createDecryptPool. */
  decrypt?: UnpackOptions['decrypt']
  /**
   * The window of message ids already handed out (duplicates are dropped by sender and id). Default
   * a fresh one in memory; pass one loaded from disk (SeenIds.from) to remember across restarts.
   */
  seen?: SeenIds
}

export class NoTransportError extends CarrierError {
  constructor(message: string, code = 'ERR_NO_TRANSPORT') {
    super(code, message)
  }
}

/** The recipient's DID document has no DIDCommMessaging service at all (an edge agent's peer DID). */
export class NoEndpointError extends NoTransportError {
  constructor(readonly did: string) {
    super(
      `${did} has no endpoint: its DID document has no DIDCommMessaging service (reach it over a link it opened, with return_route, or through its mediator)`,
      'ERR_NO_ENDPOINT',
    )
  }
}

/**
 * A send that the channel gave up on (an offline recipient: ERR_TRANSFER_TIMEOUT; a link down…):
 * the same `code` as the channel's error (its `cause`), with the recipient and what was tried.
 */
/** Codes of a channel that never got the message to the recipient (offline, link down, reset). */
const UNREACHED = new Set(['ERR_TRANSFER_TIMEOUT', 'ERR_LINK_DOWN', 'ERR_LINK_CLOSED', 'ERR_PEER_RESET', 'ERR_WEBSOCKET'])

export class SendFailedError extends CarrierError {
  constructor(
    readonly to: string,
    readonly tried: string[],
    cause: CarrierError,
  ) {
    super(cause.code, `${to} did not take the message at ${tried.join(', then ')}: ${cause.message}`, { cause })
  }
}

/** How much of one transport is unpacked ahead of the envelope being handled. */
const OPEN_AHEAD = { envelopes: 32, bytes: 4 << 20 }

type Opened = { value: Awaited<ReturnType<typeof unpack>> } | { error: unknown }
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
  private readonly queue = new AsyncQueue<Queued>()
  private readonly seen: SeenIds
  /** Queued messages the reader has not handled yet, by sender and id: a copy delivered meanwhile is handled with them. */
  private readonly unhandled = new Map<string, Promise<void>>()
  private readonly returnRoutes = new Map<string, ReturnRoute>()
  private readonly pending = new PendingRequests()
  private readonly handlers: NonNullable<AgentExtras['handle']>[] = []
  private readonly mediaHandlers = new Map<string, (r: IncomingEnvelope) => Promise<void>>()
  private started = false
  private readonly quota?: ReceiveQuota

  constructor(
    readonly identity: AgentIdentity,
    private readonly resolver: Resolver,
    private readonly transports: EndpointTransport[],
    private readonly policy: AgentPolicy = {},
    private readonly onError?: (error: unknown) => void,
    private readonly extras: AgentExtras = {},
  ) {
    this.secrets = staticSecrets(identity.secrets)
    this.seen = extras.seen ?? new SeenIds()
    if (policy.quota) this.quota = new ReceiveQuota(policy.quota)
    if (extras.handle) this.handlers.push(extras.handle)
  }

  /** Adds a handler that sees each message before messages() (as AgentExtras.handle); returns its removal. */
  addHandler(handle: NonNullable<AgentExtras['handle']>): () => void {
    this.handlers.push(handle)
    return () => {
      const i = this.handlers.indexOf(handle)
      if (i >= 0) this.handlers.splice(i, 1)
    }
  }

  get did(): string {
    return this.identity.did
  }

  /**
   * What arrives with this media type (bytes that are not a DIDComm envelope: a file's ciphertext)
   * goes to `handle`, in arrival order with the messages, instead of being unpacked. Nothing about
   * such bytes is authenticated: the handler decides what to trust. `r.data` is the handler's
   * until its promise settles, no longer (the transport may reuse the buffer: Received.release):
   * copy what it keeps. Returns the removal.
   */
  onMedia(mediaType: string, handle: (r: IncomingEnvelope) => Promise<void>): () => void {
    this.mediaHandlers.set(mediaType, handle)
    return () => {
      if (this.mediaHandlers.get(mediaType) === handle) this.mediaHandlers.delete(mediaType)
    }
  }

  /**
   * Sends bytes that are not a DIDComm envelope (a binary media type) to a DID's own endpoint over
   * a link transport (MQTT, BLE, NFC: `EndpointTransport.bytes`). ERR_NO_DIRECT_LINK when it has
   * none (an endpoint behind a mediator, or HTTP): a mediator would not know what to do with them.
   */
  async sendBytes(
    bytes: Uint8Array,
    o: { to: string; mediaType: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<SendReport> {
    const sendOptions = {
      mediaType: o.mediaType,
      signal: o.signal,
      compress: false as const,
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    }
    const uri = await this.directEndpoint(o.to)
    const transport = uri ? this.transportFor(uri) : undefined
    if (!uri || !transport?.bytes)
      throw new NoTransportError(`${o.to} has no endpoint of its own that this agent reaches over a link`, 'ERR_NO_DIRECT_LINK')
    // a transport that declares `bytes` takes a Uint8Array where the interface says string
    return transport.send(uri, bytes as unknown as string, { ...sendOptions, to: o.to })
  }

  /** The recipient's first DIDCommMessaging endpoint we reach that is its own (no routing keys, not a mediator's DID). */
  private async directEndpoint(to: string): Promise<string | undefined> {
    const doc = await resolveOrThrow(this.resolver, didOf(to))
    for (const s of doc.service ?? []) {
      const types = Array.isArray(s.type) ? s.type : [s.type]
      if (!types.includes('DIDCommMessaging')) continue
      for (const ep of Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]) {
        const e =
          typeof ep === 'string'
            ? { uri: ep, routingKeys: (s as { routingKeys?: unknown[] }).routingKeys }
            : (ep as { uri?: unknown; routingKeys?: unknown[] })
        if (typeof e?.uri !== 'string' || e.uri.startsWith('did:') || (e.routingKeys?.length ?? 0) > 0) continue
        if (this.transportFor(e.uri)) return e.uri
      }
    }
    return undefined
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
      compat: o.compat,
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
    const triedRoute = !!route && (route.thid === undefined || route.thid === msg.thid)
    if (route && triedRoute) {
      const packed = await packEncrypted(msg, { ...packOptions, forward: false })
      try {
        return { uri: 'return_route', packed, report: await route.reply(packed.packed, sendOptions) }
      } catch (err) {
        // the link is gone: forget it and go by the recipient's endpoint
        if (!(err instanceof CarrierError)) throw err
        this.returnRoutes.delete(o.to)
      }
    }
    const reachable = (uri: string) => (o.via === undefined || uri === o.via) && this.transportFor(uri) !== undefined
    const packed = await packEncrypted(msg, { ...packOptions, acceptUri: reachable })
    const uri = packed.serviceUri
    if (!uri && (await endpointOf(o.to, this.resolver)) === undefined) throw new NoEndpointError(didOf(o.to))
    if (!uri) throw new NoTransportError(`${o.to} has no DIDCommMessaging service endpoint this agent can reach`)
    const transport = this.transportFor(uri)
    if (!transport) throw new NoTransportError(`no transport for ${uri}`)
    try {
      return { uri, packed, report: await transport.send(uri, packed.packed, sendOptions) }
    } catch (err) {
      // an answer (a refusal, a problem report, an HTTP status) is the peer's word: passed on as it is
      if (!(err instanceof CarrierError) || !UNREACHED.has(err.code)) throw err
      throw new SendFailedError(o.to, triedRoute ? ['return_route', uri] : [uri], err)
    }
  }

  private transportFor(uri: string): EndpointTransport | undefined {
    const scheme = uriScheme(uri)
    if (!scheme) return undefined
    return this.transports.find((t) => t.schemes.includes(scheme) && (t.accepts?.(uri) ?? true))
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

  /**
   * Every message that arrives on any transport, unpacked and checked, each id once. A message
   * counts as handled once the reader asks for the next one (or leaves the loop): what was accepted
   * with `onHandled` (a mediator's delivery) is acknowledged only then.
   */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterable<AgentMessage> {
    this.receive()
    return this.handOut(options.signal)
  }

  private async *handOut(signal?: AbortSignal): AsyncGenerator<AgentMessage> {
    for await (const q of this.queue.iterate(signal)) {
      try {
        yield q.m
      } finally {
        q.handled()
      }
    }
  }

  /** Starts taking what arrives on every transport (messages() and request() do it). */
  receive(): void {
    if (this.started) return
    this.started = true
    for (const t of this.transports) void this.pump(t)
  }

  /**
   * Sends a message (return_route 'all' unless told otherwise) and resolves to the answer in its
   * thread; a problem report in the thread rejects with ProblemReportError. Answers are not queued
   * for messages().
   */
  async request(message: Message, o: AgentSendOptions & { timeoutMs?: number }): Promise<AgentMessage> {
    this.receive()
    const answer = this.pending.wait(message.id, o.timeoutMs ?? 30_000, o.signal)
    try {
      await this.send(message, { returnRoute: 'all', ...o })
    } catch (err) {
      this.pending.cancel(message.id, err)
    }
    return answer
  }

  /** Our transports' URI schemes and the protocols we answer, for discover-features. */
  features(): Feature[] {
    const schemes = [...new Set(this.transports.flatMap((t) => t.schemes))]
    return [
      ...AGENT_FEATURES,
      ...(this.extras.features ?? []),
      ...schemes.map((s) => ({ 'feature-type': 'transport' as const, id: s.replace(/:$/, '') })),
    ]
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

  private async handled(m: AgentMessage, r: IncomingEnvelope): Promise<boolean | { pending: Promise<void> }> {
    for (const h of this.handlers) {
      const out = await h(m, r)
      if (out) return out
    }
    return false
  }

  /** Trust ping and discover features are answered here, never queued. */
  private async answer(m: AgentMessage): Promise<boolean> {
    const answer = automaticAnswer(m, () => this.features())
    if (answer === undefined) return false
    if (answer && m.message.from)
      await this.send(answer, { to: didOf(m.message.from), compat: answerCompat(m.metadata) }).catch((err: unknown) =>
        this.onError?.(err),
      )
    return true
  }

  private signingKid(): string {
    const k = this.identity.secrets.find((s) => s.crv === 'Ed25519' || s.crv === 'P-256' || s.crv === 'secp256k1')
    if (!k) throw new CarrierError('ERR_NO_SIGNING_KEY', `${this.did} has no signing key among its secrets`)
    return k.kid
  }

  /** A DIDComm problem report to the (authenticated) sender of a refused message, over the link it came by. */
  private async reportProblem(refused: Message, err: CarrierError, reply: ReplyOnLink): Promise<void> {
    try {
      const to = (refused.from as string).split('#')[0] as string
      const report = problemReport({ code: 'e.m.req.quota', comment: err.message, about: refused })
      const { packed } = await packEncrypted(
        { ...report, from: this.did, to: [to] },
        { to, from: this.did, resolver: this.resolver, secrets: this.secrets, forward: false },
      )
      await reply(packed, { mediaType: MEDIA_ENCRYPTED })
    } catch {
      // best effort: the sender may be gone; the refusal itself went to onError already
    }
  }

  /**
   * Envelopes are opened (unpacked: decryption, DID resolution) up to 32 (or 4 MiB) ahead of the
   * one being handled, so a decryption pool or a resolver's round trip overlaps with handling; handled
   * strictly in arrival order.
   */
  private async pump(t: EndpointTransport): Promise<void> {
    const window: { handled: Promise<void>; bytes: number }[] = []
    let bytes = 0
    let last = Promise.resolve()
    for await (const r of t.incoming()) {
      const media = this.mediaHandlers.get(r.mediaType)
      if (media) {
        // bytes that are not an envelope: not unpacked, handled in their turn
        last = last
          .then(() => media(r))
          .then(
            () => r.done?.(),
            (err: unknown) => {
              r.done?.(err)
              this.onError?.(err)
            },
          )
          .finally(() => r.release?.())
      } else {
        const opened = this.open(r)
        last = last.then(() => this.handleOpened(r, opened)).catch((err: unknown) => this.onError?.(err))
      }
      window.push({ handled: last, bytes: r.data.length })
      bytes += r.data.length
      // big envelopes (file parts) are not held many at a time: the window is bounded in bytes too
      while (window.length >= OPEN_AHEAD.envelopes || bytes >= OPEN_AHEAD.bytes) {
        const oldest = window.shift() as (typeof window)[number]
        await oldest.handled
        bytes -= oldest.bytes
      }
    }
    await last
  }

  /** Unpacks; never rejects (a failure is handled in its turn, after the envelopes before it). */
  private open(r: IncomingEnvelope): Promise<Opened> {
    return unpack(r.data, {
      resolver: this.resolver,
      secrets: this.secrets,
      compat: this.policy.compat,
      decrypt: this.extras.decrypt,
    }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    )
  }

  /**
   * Takes one envelope as if a transport had brought it: unpack, policy, duplicates, automatic
   * answers, then messages(). What a mediator delivers (pickup) comes in this way. Resolves once
   * the message is queued for messages() (or dropped, answered, refused); `onHandled` is called
   * once the application is done with it (messages() moved past it), or at once when it never
   * reaches messages(): a pickup acknowledges then, so a reader killed before it wrote the message
   * gets it again.
   */
  accept(r: IncomingEnvelope, o: { onHandled?: () => void } = {}): Promise<void> {
    return this.handleOpened(r, this.open(r), o.onHandled)
  }

  private async handleOpened(r: IncomingEnvelope, opening: Promise<Opened>, onHandled?: () => void): Promise<void> {
    let key: string | undefined
    let queued = false
    try {
      const opened = await opening
      if ('error' in opened) throw opened.error
      const { message, metadata } = opened.value
      const refusal =
        (this.policy.requireEncrypted ?? true) && !metadata.encrypted
          ? 'plaintext message refused: encryption required'
          : this.policy.requireAuthenticated && !metadata.authenticated
            ? 'anonymous message refused: authentication required'
            : undefined
      if (refusal)
        throw new RefusedMessageError(
          'ERR_DIDCOMM_POLICY',
          problemReport({ code: 'e.m.policy', comment: refusal, about: message }),
        )
      // a copy delivered again (a mediator redelivering, a retried post) is dropped before the quota counts it
      const id = `${message.from ?? ''}|${message.id}`
      if (this.seen.isDuplicate(id)) {
        // a copy of a message the reader still holds is acknowledged with it, not before
        const original = this.unhandled.get(id)
        if (original && onHandled) {
          queued = true
          void original.then(onHandled)
        }
        r.done?.()
        return
      }
      if (this.quota && !this.policy.quotaExempt?.(message, metadata)) {
        const sender = message.from?.split('#')[0] ?? (r as { from?: string }).from ?? 'anonymous'
        const refused = this.quota.admit(sender, r.data.length)
        if (refused !== undefined) {
          // one report per sender per interval (a flood gives a trickle); the rest are dropped quietly
          if (refused) {
            this.onError?.(refused)
            if (message.from && r.reply) void this.reportProblem(message, refused, r.reply)
          }
          r.done?.(refused ?? new ReceiveQuotaError(sender, `${sender} is over its receive quota`))
          return
        }
      }
      key = id
      this.rememberReturnRoute(message, r.reply)
      this.seen.add(key, { pending: true })
      const m = { message, metadata }
      const handled = this.pending.settle(m) || (await this.answer(m)) || (await this.handled(m, r))
      if (handled) {
        this.seen.settle(key)
        if (handled === true) r.done?.()
        else {
          const k = key
          void handled.pending.then(
            () => r.done?.(),
            (err: unknown) => {
              this.seen.delete(k)
              r.done?.(err)
              this.onError?.(err)
            },
          )
        }
        return
      }
      const handledKey = key
      queued = true
      let settle = () => {}
      this.unhandled.set(handledKey, new Promise<void>((resolve) => (settle = resolve)))
      this.queue.push({
        m,
        handled: () => {
          this.seen.settle(handledKey)
          this.unhandled.delete(handledKey)
          settle()
          onHandled?.()
        },
      })
      // an exchange that carries one answer (HTTP) waits a little for it when the sender asked for it
      const awaitsAnswer = r.reply && !r.duplex && (message.return_route === 'all' || message.return_route === 'thread')
      if (awaitsAnswer) setTimeout(() => r.done?.(), this.policy.returnRouteHoldMs ?? 5000)
      else r.done?.()
    } catch (err) {
      // refused or failed: a retry of the same message must be handled again, not dropped as a duplicate
      if (key !== undefined) this.seen.delete(key)
      r.done?.(err)
      this.onError?.(err)
    } finally {
      if (!queued) onHandled?.()
    }
  }
}

/** A message waiting for messages(), and what to do once the reader is done with it. */
interface Queued {
  m: AgentMessage
  handled: () => void
}

export function createAgent(o: {
  identity: AgentIdentity
  resolver: Resolver
  transports: EndpointTransport[]
  policy?: AgentPolicy
  onError?: (error: unknown) => void
  extras?: AgentExtras
}): Agent {
  return new Agent(o.identity, o.resolver, o.transports, o.policy, o.onError, o.extras)
}

/** The files attached to a message, checked against their hash. */
export function receivedFiles(m: Message): { filename?: string; mediaType?: string; bytes: Uint8Array }[] {
  return (m.attachments ?? [])
    .filter((a) => typeof a.data.base64 === 'string')
    .map((a) => ({ filename: a.filename, mediaType: a.media_type, bytes: attachmentBytes(a) }))
}
