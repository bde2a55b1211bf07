import { didOf, methods, publicKey, type Resolver, resolveOrThrow, type Secrets } from '../did/document.js'
import { randomUUID } from '../random-uuid.js'
import { decodeUtf8Strict } from '../wire/utf8.js'
import { b64u } from './b64u.js'
import type { Enc } from './cipher.js'
import { err } from './errors.js'
import { ALG_AUTH, type DecryptCompat, decryptJwe, encryptJwe, type GeneralJwe, TYP_ENCRYPTED, VERAMO_AUTHCRYPT } from './jwe.js'
import { signJws, verifyJws } from './jws.js'
import { AGREEMENT_CURVES, type Jwk, publicJwk } from './keys.js'

export const TYP_PLAIN = 'application/didcomm-plain+json'
export const FORWARD_TYPE = 'https://didcomm.org/routing/2.0/forward'

/** A DIDComm v2 plaintext message (JWM). */
export interface Message {
  id: string
  type: string
  from?: string
  to?: string[]
  thid?: string
  pthid?: string
  /** Unix seconds (an ISO-8601 string from Veramo is accepted on receipt). */
  created_time?: number | string
  expires_time?: number
  body?: Record<string, unknown>
  attachments?: Attachment[]
  from_prior?: string
  [k: string]: unknown
}

export interface Attachment {
  id?: string
  description?: string
  filename?: string
  media_type?: string
  format?: string
  lastmod_time?: number
  byte_count?: number
  data: { base64?: string; json?: unknown; links?: string[]; hash?: string; jws?: unknown }
}

export function packPlaintext(message: Message): string {
  return JSON.stringify({ typ: TYP_PLAIN, ...message })
}

async function secretOrThrow(secrets: Secrets, kid: string): Promise<Jwk> {
  const k = await secrets.get(kid)
  if (!k) throw err.noKey(`no private key for ${kid}`)
  return k
}

export interface PackSignedOptions {
  /**
   * The signing key: a key id (did#key), or a bare DID, which signs with its first authentication
   * key whose private key `secrets` holds (didcomm-rust's `sign_by`; needs `resolver`).
   */
  signFrom: string
  secrets: Secrets
  /** Resolves a bare-DID signFrom to its authentication keys. */
  resolver?: Resolver
  /** 'veramo': kid in the protected header, where Veramo 7 looks for it (not where didcomm-rust does). */
  compat?: 'veramo'
}

/** The key id a signFrom names: itself when it is a key id, else the DID's first usable authentication key. */
export async function signingKidFor(signFrom: string, o: { secrets: Secrets; resolver?: Resolver }): Promise<string> {
  if (signFrom.includes('#')) return signFrom
  if (!signFrom.startsWith('did:')) throw err.noKey(`signFrom must be a DID or a key id (did#key), got ${signFrom}`)
  if (!o.resolver) throw err.noKey(`signFrom ${signFrom} is a DID: a resolver is needed to find its authentication keys`)
  const doc = await resolveOrThrow(o.resolver, signFrom)
  for (const m of methods(doc, 'authentication')) if (await o.secrets.get(m.id)) return m.id
  throw err.noKey(`no private key for any authentication key of ${signFrom}`)
}

export async function packSigned(message: Message, o: PackSignedOptions): Promise<string> {
  return (await signMessage(message, o)).packed
}

async function signMessage(message: Message, o: PackSignedOptions): Promise<{ packed: string; kid: string }> {
  if (message.from && didOf(message.from) !== didOf(o.signFrom)) {
    throw err.senderMismatch(`signFrom ${o.signFrom} is not a key of the sender ${message.from}`)
  }
  const kid = await signingKidFor(o.signFrom, o)
  const key = await secretOrThrow(o.secrets, kid)
  return { packed: JSON.stringify(signJws(new TextEncoder().encode(packPlaintext(message)), [{ kid, key }], o.compat)), kid }
}

export interface PackEncryptedOptions {
  /** Recipient DID, or the DID URL of one of its key agreement keys. */
  to: string
  /** Sender DID or key (authcrypt); absent = anoncrypt. */
  from?: string
  /** Sign first (non-repudiation) with this key (did#key), or a DID's first authentication key. */
  signFrom?: string
  /** Anoncrypt the authcrypt envelope, hiding the sender from intermediaries. */
  protectSender?: boolean
  /**
   * Content encryption of anoncrypt (authcrypt is A256CBC-HS512, except in compat 'veramo').
   * Default A256CBC-HS512.
   */
  enc?: Enc
  /**
   * 'veramo': authcrypt in Veramo's variant, the only one Veramo 7 opens (ECDH-1PU without the
   * content tag in the KDF; `enc` then applies to authcrypt too). Single recipient key only;
   * anything but Veramo needs the standard form.
   */
  compat?: 'veramo'
  /** Wrap in routing 2.0 forwards for the recipient's mediators. Default true. */
  forward?: boolean
  /**
   * The service endpoints the sender can reach (say, by URI scheme): the first acceptable one of the
   * recipient's DIDCommMessaging services is used. Default: the first. A DID (a mediator) is always
   * acceptable; its own endpoints are then chosen the same way.
   */
  acceptUri?: (uri: string) => boolean
  resolver: Resolver
  secrets: Secrets
}

export interface PackEncryptedResult {
  packed: string
  toKids: string[]
  fromKid?: string
  signFromKid?: string
  /** The service endpoint used (when forward-wrapped, the first mediator's). */
  serviceUri?: string
  forwardedThrough: string[]
}

/**
 * Encrypts a message for every key agreement key of the recipient on one curve (the sender's,
 * for authcrypt), optionally signed first, optionally sender-protected, then forward-wrapped for
 * each routing key of the recipient's DIDCommMessaging service.
 */
export async function packEncrypted(message: Message, o: PackEncryptedOptions): Promise<PackEncryptedResult> {
  const toDoc = await resolveOrThrow(o.resolver, didOf(o.to))
  let candidates = methods(toDoc, 'keyAgreement')
  if (o.to.includes('#')) candidates = candidates.filter((m) => m.id === o.to)
  if (candidates.length === 0) throw err.noKey(`${o.to} has no key agreement keys`)
  if (message.to && !message.to.map(didOf).includes(toDoc.id))
    throw err.recipientMismatch(`${toDoc.id} is not in the message's to`)

  let sender: { kid: string; key: Jwk } | undefined
  let crv: string
  if (o.from) {
    if (message.from && didOf(message.from) !== didOf(o.from))
      throw err.senderMismatch(`from ${o.from} does not match the message's from`)
    const fromDoc = await resolveOrThrow(o.resolver, didOf(o.from))
    let own = methods(fromDoc, 'keyAgreement')
    if (o.from.includes('#')) own = own.filter((m) => m.id === o.from)
    const usable: typeof own = []
    for (const m of own) if (await o.secrets.get(m.id)) usable.push(m)
    const pick = usable.find((m) => candidates.some((c) => jwkCrv(c) === jwkCrv(m)))
    if (!pick) throw err.noKey(`no key agreement key of ${o.from} shares a curve with ${o.to}`)
    sender = { kid: pick.id, key: await secretOrThrow(o.secrets, pick.id) }
    crv = jwkCrv(pick)
  } else {
    crv = jwkCrv(candidates.find((c) => AGREEMENT_CURVES.includes(jwkCrv(c) as never)) ?? (candidates[0] as never))
  }
  const recipients = await Promise.all(
    candidates
      .filter((c) => jwkCrv(c) === crv)
      .map(async (c) => ({ kid: c.id, key: publicJwk(await publicKey(o.resolver, c.id, ['keyAgreement'])) })),
  )

  const signed = o.signFrom ? await signMessage(message, { ...o, signFrom: o.signFrom }) : undefined
  let payload = new TextEncoder().encode(signed ? signed.packed : packPlaintext(message))
  let jwe: GeneralJwe
  if (sender) {
    jwe =
      o.compat === 'veramo'
        ? encryptJwe(payload, { recipients, sender, enc: o.enc ?? 'A256CBC-HS512', compat: VERAMO_AUTHCRYPT })
        : encryptJwe(payload, { recipients, sender, enc: 'A256CBC-HS512' })
    if (o.protectSender) {
      payload = new TextEncoder().encode(JSON.stringify(jwe))
      jwe = encryptJwe(payload, { recipients, enc: o.enc ?? 'A256CBC-HS512' })
    }
  } else {
    jwe = encryptJwe(payload, { recipients, enc: o.enc ?? 'A256CBC-HS512' })
  }

  const forwarded =
    o.forward === false
      ? { jwe, through: [] as string[], uri: messagingService(toDoc, o.acceptUri)?.uri }
      : await wrapForwards(jwe, toDoc.id, o, message.expires_time)
  return {
    packed: JSON.stringify(forwarded.jwe),
    toKids: recipients.map((r) => r.kid),
    fromKid: sender?.kid,
    signFromKid: signed?.kid,
    serviceUri: forwarded.uri,
    forwardedThrough: forwarded.through,
  }
}

function jwkCrv(m: { publicKeyJwk?: Jwk; publicKeyMultibase?: string }): string {
  if (m.publicKeyJwk) return m.publicKeyJwk.crv
  if (m.publicKeyMultibase?.startsWith('z6LS')) return 'X25519'
  if (m.publicKeyMultibase?.startsWith('zDn')) return 'P-256'
  return 'unknown'
}

interface ServiceInfo {
  uri: string
  routingKeys: string[]
}

/** The first DIDCommMessaging endpoint of a DID document that `accept` takes (a DID always). */
function messagingService(
  doc: { service?: { type: string | string[]; serviceEndpoint: unknown }[] },
  accept: (uri: string) => boolean = () => true,
): ServiceInfo | undefined {
  for (const s of doc.service ?? []) {
    const types = Array.isArray(s.type) ? s.type : [s.type]
    if (!types.includes('DIDCommMessaging')) continue
    const eps = Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]
    for (const ep of eps) {
      let found: ServiceInfo | undefined
      // DIDComm v2.0 style: a string endpoint with routingKeys beside it
      if (typeof ep === 'string')
        found = { uri: ep, routingKeys: ((s as { routingKeys?: string[] }).routingKeys ?? []) as string[] }
      else if (ep && typeof ep === 'object' && typeof (ep as ServiceInfo).uri === 'string') {
        found = { uri: (ep as ServiceInfo).uri, routingKeys: (ep as ServiceInfo).routingKeys ?? [] }
      }
      if (found && (found.uri.startsWith('did:') || accept(found.uri))) return found
    }
  }
  return undefined
}

/**
 * Routing 2.0: wrap the envelope in a forward for each routing key of the recipient's
 * DIDCommMessaging service, the first key outermost (the first mediator to receive it). A service
 * URI that is itself a DID means "through that mediator": its own routing keys go in front, and its
 * URI is where the envelope is sent.
 */
async function wrapForwards(
  jwe: GeneralJwe,
  recipientDid: string,
  o: PackEncryptedOptions,
  expiresTime?: number,
): Promise<{ jwe: GeneralJwe; through: string[]; uri?: string }> {
  const doc = await resolveOrThrow(o.resolver, recipientDid)
  const svc = messagingService(doc, o.acceptUri)
  if (!svc) return { jwe, through: [], uri: undefined }
  let keys = svc.routingKeys
  let uri: string | undefined = svc.uri
  if (uri.startsWith('did:')) {
    const mediatorDid = didOf(uri)
    const mediator = messagingService(await resolveOrThrow(o.resolver, mediatorDid), o.acceptUri)
    keys = [...(mediator?.routingKeys ?? []), ...keys]
    // no routing key anywhere: the mediator is reached by its DID (what Identus agents publish)
    if (keys.length === 0) keys = [mediatorDid]
    uri = mediator?.uri
  }
  let current = jwe
  let next = recipientDid
  for (const key of [...keys].reverse()) {
    current = await forwardTo(current, next, key, o, expiresTime)
    next = key
  }
  return { jwe: current, through: keys, uri }
}

async function forwardTo(
  inner: GeneralJwe,
  next: string,
  hop: string,
  o: PackEncryptedOptions,
  expiresTime?: number,
): Promise<GeneralJwe> {
  // the forward expires with the message it carries: a mediator can drop it unopened
  const fwd: Message = {
    id: randomUUID(),
    type: FORWARD_TYPE,
    to: [didOf(hop)],
    ...(expiresTime !== undefined ? { expires_time: expiresTime } : {}),
    body: { next },
    attachments: [{ data: { json: inner } }],
  }
  const packed = await packEncrypted(fwd, {
    ...o,
    to: hop,
    from: undefined,
    signFrom: undefined,
    protectSender: false,
    forward: false,
  })
  return JSON.parse(packed.packed) as GeneralJwe
}

/**
 * Wraps an envelope in a routing 2.0 forward for `hop` (a mediator's DID or key id), saying it goes
 * on to `next` — what a device behind a bridge does for each envelope it hands to the bridge.
 */
export async function wrapForward(
  envelope: string,
  o: { next: string; hop: string; resolver: PackEncryptedOptions['resolver']; secrets?: PackEncryptedOptions['secrets'] },
): Promise<string> {
  const jwe = await forwardTo(JSON.parse(envelope) as GeneralJwe, o.next, o.hop, {
    to: o.hop,
    resolver: o.resolver,
    secrets: o.secrets ?? { get: async () => null }, // anoncrypt: no sender key
  })
  return JSON.stringify(jwe)
}

/**
 * Where envelopes for `did` go: its DIDCommMessaging service URI (a DID as URI is followed once);
 * the first one `accept` takes.
 */
export async function endpointOf(
  did: string,
  resolver: PackEncryptedOptions['resolver'],
  accept?: (uri: string) => boolean,
): Promise<string | undefined> {
  const svc = messagingService(await resolveOrThrow(resolver, didOf(did)), accept)
  if (svc?.uri.startsWith('did:')) return messagingService(await resolveOrThrow(resolver, didOf(svc.uri)), accept)?.uri
  return svc?.uri
}

/**
 * An envelope already encrypted for `recipientDid`, routed as packEncrypted routes what it packs:
 * wrapped in a forward for each routing key of its service (for its mediator when the service URI
 * is a DID), with the URI to send the result to — what a relay does with an envelope it passes on.
 */
export async function routeEnvelope(
  envelope: string,
  recipientDid: string,
  o: { resolver: PackEncryptedOptions['resolver']; acceptUri?: (uri: string) => boolean },
): Promise<{ envelope: string; uri?: string; forwardedThrough: string[] }> {
  const routed = await wrapForwards(JSON.parse(envelope) as GeneralJwe, didOf(recipientDid), {
    to: recipientDid,
    resolver: o.resolver,
    secrets: { get: async () => null }, // forwards are anoncrypt: no sender key
    ...(o.acceptUri ? { acceptUri: o.acceptUri } : {}),
  })
  return {
    envelope: routed.through.length ? JSON.stringify(routed.jwe) : envelope,
    uri: routed.uri,
    forwardedThrough: routed.through,
  }
}

/** The DID an encrypted envelope is addressed to (its recipients' key ids), if it names one. */
export function addresseeOf(envelope: string): string | undefined {
  try {
    const jwe = JSON.parse(envelope) as { recipients?: { header?: { kid?: unknown } }[] }
    const kid = jwe.recipients?.[0]?.header?.kid
    return typeof kid === 'string' && kid.startsWith('did:') ? didOf(kid) : undefined
  } catch {
    return undefined
  }
}

/** For a mediator: the next hop and the envelope to pass on, from an unpacked forward message. */
export function forwardPayload(message: Message): { next: string; envelope: string } {
  if (message.type !== FORWARD_TYPE) throw err.malformed('not a forward message')
  const next = message.body?.next
  const att = message.attachments?.[0]?.data
  if (typeof next !== 'string' || !att) throw err.malformed('forward without next or attachment')
  if (att.json !== undefined) return { next, envelope: JSON.stringify(att.json) }
  if (typeof att.base64 === 'string') return { next, envelope: new TextDecoder().decode(b64u.decode(att.base64)) }
  throw err.malformed('forward attachment is neither json nor base64')
}

export interface UnpackMetadata {
  encrypted: boolean
  authenticated: boolean
  nonRepudiation: boolean
  anonymousSender: boolean
  /** The key management/content encryption that protected the message: encAlgAuth, else encAlgAnon. */
  encAlg?: string
  /** e.g. 'ECDH-1PU+A256KW/A256CBC-HS512'; encAlgAnon for an outer anoncrypt layer. */
  encAlgAuth?: string
  encAlgAnon?: string
  signAlg?: string
  encryptedTo?: string[]
  encryptedFrom?: string
  signFrom?: string
  /** The forward messages unwrapped on the way (for a mediator: the envelope was a forward). */
  forwarded: boolean
  /** 'veramo-authcrypt' when the authcrypt layer was Veramo's variant (read with compat.veramoAuthcrypt). */
  compat?: typeof VERAMO_AUTHCRYPT
  fromPriorIssuerKid?: string
}

export interface UnpackOptions {
  resolver: Resolver
  secrets: Secrets
  /** Unix seconds; default the clock. */
  now?: () => number
  /** Refuse messages that are not authcrypted or signed. */
  requireAuthenticated?: boolean
  /** Refuse plaintext (unencrypted) messages. */
  requireEncrypted?: boolean
  /** Opt-in readings of other implementations' variants; none by default. */
  compat?: DecryptCompat
  /** Opens each JWE layer; default decryptJwe here (a pool of threads may do it instead, same contract). */
  decrypt?: typeof decryptJwe
}

/** Unpacks any DIDComm envelope, checking every rule of the spec; throws DIDCommError. */
export async function unpack(
  envelope: string | Uint8Array | object,
  o: UnpackOptions,
): Promise<{ message: Message; metadata: UnpackMetadata }> {
  const meta: UnpackMetadata = {
    encrypted: false,
    authenticated: false,
    nonRepudiation: false,
    anonymousSender: false,
    forwarded: false,
  }
  let value = parse(envelope)
  let recipientDid: string | undefined
  let skidDid: string | undefined
  for (let layer = 0; layer < 4; layer++) {
    if (typeof value.ciphertext === 'string') {
      const d = await (o.decrypt ?? decryptJwe)(value, {
        findKey: (kid) => o.secrets.get(kid),
        senderKey: (skid) => publicKey(o.resolver, skid, ['keyAgreement']),
        compat: o.compat,
      })
      if (d.compat) meta.compat = d.compat
      if (d.header.typ !== undefined && d.header.typ !== TYP_ENCRYPTED) throw err.header(`JWE typ ${d.header.typ}`)
      meta.encrypted = true
      meta.encryptedTo ??= d.recipientKids
      recipientDid = didOf(d.kid)
      if (d.header.alg === ALG_AUTH) {
        meta.authenticated = true
        meta.encryptedFrom = d.header.skid
        meta.encAlgAuth = `${d.header.alg}/${d.header.enc}`
        skidDid = didOf(d.header.skid as string)
        if (layer > 0 && meta.encAlgAnon) meta.anonymousSender = true
      } else {
        meta.encAlgAnon = `${d.header.alg}/${d.header.enc}`
        meta.anonymousSender = true
      }
      value = parse(d.plaintext)
      continue
    }
    if (Array.isArray(value.signatures) || typeof value.signature === 'string') {
      const v = await verifyJws(value, (kid) => publicKey(o.resolver, kid, ['authentication', 'assertionMethod']))
      meta.nonRepudiation = true
      meta.authenticated = true
      meta.signFrom = v.kids[0]
      meta.signAlg = v.algs[0]
      value = parse(v.payload)
      continue
    }
    break
  }
  const message = value as unknown as Message
  checkPlaintext(message)
  if (meta.encryptedFrom && message.from !== undefined && didOf(message.from) !== skidDid) {
    throw err.senderMismatch(`skid ${meta.encryptedFrom} is not a key of the sender ${message.from}`)
  }
  if (meta.encryptedFrom && message.from === undefined) throw err.senderMismatch('authcrypt message without from')
  if (meta.signFrom && (message.from === undefined || didOf(message.from) !== didOf(meta.signFrom))) {
    throw err.senderMismatch(`signer ${meta.signFrom} is not the sender ${String(message.from)}`)
  }
  if (recipientDid && message.to && !message.to.map(didOf).includes(recipientDid)) {
    throw err.recipientMismatch(`the message is not addressed to ${recipientDid}`)
  }
  if (message.from_prior !== undefined) meta.fromPriorIssuerKid = await checkFromPrior(message, o.resolver)
  const now = o.now?.() ?? Math.floor(Date.now() / 1000)
  if (typeof message.expires_time === 'number' && message.expires_time < now)
    throw err.expired(`message expired at ${message.expires_time}`)
  if (message.type === FORWARD_TYPE) meta.forwarded = true
  meta.encAlg = meta.encAlgAuth ?? meta.encAlgAnon
  if (o.requireEncrypted && !meta.encrypted) throw err.policy('plaintext message refused: encryption required')
  if (o.requireAuthenticated && !meta.authenticated) throw err.policy('anonymous message refused: authentication required')
  return { message, metadata: meta }
}

function parse(v: string | Uint8Array | object): Record<string, unknown> {
  if (typeof v === 'object' && !(v instanceof Uint8Array)) return v as Record<string, unknown>
  try {
    const text = typeof v === 'string' ? v : decodeUtf8Strict(v)
    const j = JSON.parse(text) as unknown
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error()
    return j as Record<string, unknown>
  } catch {
    throw err.malformed('envelope is not a JSON object')
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

function isIsoTime(v: unknown): boolean {
  return typeof v === 'string' && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v))
}

function checkPlaintext(m: Message): void {
  if (typeof m.id !== 'string' || m.id === '') throw err.malformed('message without id')
  if (typeof m.type !== 'string' || m.type === '') throw err.malformed('message without type')
  if (m.typ !== undefined && m.typ !== TYP_PLAIN) throw err.malformed(`plaintext typ ${String(m.typ)}`)
  if (m.to !== undefined && (!Array.isArray(m.to) || m.to.some((t) => typeof t !== 'string')))
    throw err.malformed('to is not an array of DIDs')
  if (m.from !== undefined && typeof m.from !== 'string') throw err.malformed('from is not a DID')
  if (m.body !== undefined && (typeof m.body !== 'object' || m.body === null || Array.isArray(m.body)))
    throw err.malformed('body is not an object')
  // Veramo writes created_time as an ISO-8601 string: informational and unambiguous, so accepted
  if (m.created_time !== undefined && typeof m.created_time !== 'number' && !isIsoTime(m.created_time))
    throw err.malformed('created_time is neither a number nor an ISO-8601 time')
  if (m.expires_time !== undefined && typeof m.expires_time !== 'number') throw err.malformed('expires_time is not a number')
  if (m.attachments !== undefined) {
    if (!Array.isArray(m.attachments)) throw err.malformed('attachments is not an array')
    for (const a of m.attachments) {
      if (!a || typeof a !== 'object') throw err.malformed('attachment is not an object')
      if (a.id !== undefined && typeof a.id !== 'string') throw err.malformed('attachment id is not a string')
      const d = a.data
      if (!d || typeof d !== 'object' || Array.isArray(d)) throw err.malformed('attachment without data')
      if (d.base64 === undefined && d.json === undefined && d.links === undefined && d.jws === undefined) {
        throw err.malformed('attachment data without base64, json, links or jws')
      }
      if (d.links !== undefined && (!Array.isArray(d.links) || typeof d.hash !== 'string'))
        throw err.malformed('attachment links without hash')
      if (d.base64 !== undefined && typeof d.base64 !== 'string') throw err.malformed('attachment base64 is not a string')
    }
  }
}

/**
 * from_prior (DID rotation): a compact JWS by the previous DID, whose sub must be the new DID in
 * from. Returns the issuer's key id.
 */
async function checkFromPrior(m: Message, resolver: Resolver): Promise<string> {
  const jwt = m.from_prior
  const parts = typeof jwt === 'string' ? jwt.split('.') : []
  if (parts.length !== 3) throw err.malformed('from_prior is not a compact JWT')
  const [h, p, s] = parts as [string, string, string]
  let header: { alg?: string; kid?: string }
  let claims: { iss?: string; sub?: string }
  try {
    header = JSON.parse(new TextDecoder().decode(b64u.decode(h)))
    claims = JSON.parse(new TextDecoder().decode(b64u.decode(p)))
  } catch {
    throw err.malformed('from_prior is not a JWT')
  }
  if (typeof header.kid !== 'string' || typeof claims.iss !== 'string' || typeof claims.sub !== 'string') {
    throw err.malformed('from_prior without kid, iss or sub')
  }
  if (didOf(header.kid) !== claims.iss) throw err.senderMismatch('from_prior kid is not a key of its issuer')
  if (m.from === undefined || claims.sub !== didOf(m.from)) throw err.senderMismatch('from_prior sub is not the sender')
  if (claims.iss === claims.sub) throw err.malformed('from_prior issuer and subject are the same DID')
  await verifyJws({ payload: p, signatures: [{ protected: h, signature: s, header: { kid: header.kid } }] }, (kid) =>
    publicKey(resolver, kid, ['authentication', 'assertionMethod']),
  )
  return header.kid
}
