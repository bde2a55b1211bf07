/**
 * What a React Native app does with the core, run on Hermes by test/hermes/hermes.test.ts (and
 * under Node by the same test, for the figures to compare). Each result is one JSON line.
 * Everything random is seeded: the data here, and crypto.getRandomValues by the harness.
 */

import { MediationClient } from '../../src/agent/mediation.js'
import { type DIDDocument, staticResolver, staticSecrets } from '../../src/did/document.js'
import type { Jwk } from '../../src/didcomm/keys.js'
import {
  createAgent,
  createMessage,
  createPeerDid,
  didPeerResolver,
  FORWARD_TYPE,
  forwardPayload,
  type Message,
  oneLinkEndpointTransport,
  packEncrypted,
  packSigned,
  unpack,
} from '../../src/index.js'
import { createMediator, MemoryMessageStore, mediatorIdentity } from '../../src/mediator/index.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import { sha256 } from '../../src/wire/digest.js'
import { createTransport } from '../../src/wire/index.js'

export type Emit = (line: Record<string, unknown>) => void

/** didcomm-rust's test DIDs and keys (X25519, P-256, Ed25519), given by the harness (JSON). */
export interface Fixtures {
  docs: DIDDocument[]
  secrets: (Jwk & { kid: string })[]
}
let given: Fixtures | undefined
export function useFixtures(f: Fixtures): void {
  given = f
}
function fixtures() {
  if (!given) throw new Error('useFixtures() first')
  return { resolver: staticResolver(given.docs), secrets: staticSecrets(given.secrets) }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const utf8 = (s: string) => new TextEncoder().encode(s)
const shaOf = async (b: Uint8Array) => hex(await sha256(b))

export const MESSAGE: Message = {
  id: 'hermes-1',
  type: 'https://didcomm.org/basicmessage/2.0/message',
  from: 'did:example:alice',
  to: ['did:example:bob'],
  created_time: 1_700_000_000,
  body: { content: 'über Hermes ✓' },
}

/** The envelope kinds and curves: each packed here and opened here and by the other engine. */
export const KINDS = [
  { kind: 'signed', signFrom: 'did:example:alice#key-1' },
  { kind: 'anoncrypt', curve: 'X25519', to: 'did:example:bob#key-x25519-1' },
  { kind: 'anoncrypt', curve: 'P-256', to: 'did:example:bob#key-p256-1' },
  { kind: 'authcrypt', curve: 'X25519', to: 'did:example:bob#key-x25519-1', from: 'did:example:alice#key-x25519-1' },
  { kind: 'authcrypt', curve: 'P-256', to: 'did:example:bob#key-p256-1', from: 'did:example:alice#key-p256-1' },
  { kind: 'forward', curve: 'X25519', to: 'did:example:bob#key-x25519-1', from: 'did:example:alice#key-x25519-1', forward: true },
  { kind: 'forward', curve: 'P-256', to: 'did:example:bob#key-p256-1', from: 'did:example:alice#key-p256-1', forward: true },
] as const

export type Kind = (typeof KINDS)[number]
export const kindName = (k: Kind) => ('curve' in k ? `${k.kind}-${k.curve}` : k.kind)

export async function pack(k: Kind, message: Message = MESSAGE): Promise<string> {
  const { resolver, secrets } = fixtures()
  if (k.kind === 'signed') return packSigned(message, { signFrom: k.signFrom, secrets, resolver })
  const from = 'from' in k ? k.from : undefined
  const r = await packEncrypted(from ? message : { ...message, from: undefined }, {
    to: k.to,
    from,
    forward: 'forward' in k,
    resolver,
    secrets,
  })
  return r.packed
}

/** Opens an envelope (a forward: as the mediator, then as the recipient) into a comparable summary. */
export async function open(envelope: string): Promise<{ message: Message; meta: Record<string, unknown> }> {
  const { resolver, secrets } = fixtures()
  let r = await unpack(envelope, { resolver, secrets })
  let hops = 0
  // as the mediator: the forward names the next hop; then as the recipient
  for (; r.message.type === FORWARD_TYPE; hops++) r = await unpack(forwardPayload(r.message).envelope, { resolver, secrets })
  const m = r.metadata as unknown as Record<string, unknown>
  const meta = {
    encrypted: m.encrypted,
    authenticated: m.authenticated,
    nonRepudiation: m.nonRepudiation,
    anonymousSender: m.anonymousSender,
    encryptedTo: m.encryptedTo,
    encryptedFrom: m.encryptedFrom,
    signFrom: m.signFrom,
    hops,
  }
  return { message: r.message, meta }
}

export async function envelopes(emit: Emit, fromOtherEngine: Record<string, string>): Promise<void> {
  for (const k of KINDS) {
    const name = kindName(k)
    const packed = await pack(k)
    const own = await open(packed)
    const other = fromOtherEngine[name] ? await open(fromOtherEngine[name] as string) : undefined
    emit({
      case: 'envelope',
      name,
      packed,
      own: await shaOf(utf8(JSON.stringify(own))),
      other: other ? await shaOf(utf8(JSON.stringify(other))) : null,
    })
  }
}

/** 200 KB through the reliable session over a link that loses, duplicates and reorders frames. */
export async function reliable(emit: Emit): Promise<void> {
  const data = seededBytes(200 * 1024, 31)
  const pair = memoryLinkPair({ mtu: 185, loss: 0.1, duplicate: 0.02, reorder: 0.05, seed: 31 })
  const tx = createTransport(pair.a)
  const rx = createTransport(pair.b)
  const got = (async () => {
    for await (const r of rx.receive()) return r
  })()
  const report = await tx.send(data, { mediaType: 'application/octet-stream' })
  const r = await got
  emit({
    case: 'reliable',
    bytes: r?.data.length,
    sha256: await shaOf(r?.data ?? new Uint8Array()),
    confirmed: (report as { confirmed?: boolean }).confirmed ?? null,
  })
  await tx.close()
  await rx.close()
}

/** 100 KB sent as a fountain stream on a simplex link (QR) that loses a third of the frames. */
export async function fountain(emit: Emit): Promise<void> {
  const data = seededBytes(100 * 1024, 32)
  const pair = memoryLinkPair({ mtu: 400, duplex: false, loss: 1 / 3, seed: 32 })
  const tx = createTransport(pair.a)
  const rx = createTransport(pair.b)
  const got = (async () => {
    for await (const r of rx.receive()) return r
  })()
  const ac = new AbortController()
  const sending = tx.send(data, { mediaType: 'application/octet-stream', signal: ac.signal })
  // the sender runs until it is stopped: the first to settle is the receiver, or the sender failing
  const r = await Promise.race([got, sending.then(() => undefined)])
  ac.abort()
  const stopped = await sending.then(
    () => 'ended',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  )
  emit({ case: 'fountain', bytes: r?.data.length, sha256: await shaOf(r?.data ?? new Uint8Array()), stopped })
  await tx.close()
  await rx.close()
}

/**
 * A phone's mediation client: a mediator, the phone (carol) and a sender (alice) on memory links;
 * carol is granted mediation and registers her DID, alice's message is forwarded and queued, carol
 * picks it up and the delivery is parsed into the message alice sent.
 */
export async function mediation(emit: Emit): Promise<void> {
  const toCarol = memoryLinkPair({ mtu: 244, seed: 41 })
  const toAlice = memoryLinkPair({ mtu: 244, seed: 42 })
  const schemes = ['mem:']
  const identity = mediatorIdentity(['mem://mediator'])
  const mediator = createMediator({
    identity,
    store: new MemoryMessageStore(),
    resolver: didPeerResolver,
    transports: [
      oneLinkEndpointTransport(createTransport(toCarol.b), schemes),
      oneLinkEndpointTransport(createTransport(toAlice.b), schemes),
    ],
  })
  const carolIdentity = createPeerDid({ service: [{ uri: identity.did, accept: ['didcomm/v2'] }] })
  const carol = createAgent({
    identity: carolIdentity,
    resolver: didPeerResolver,
    transports: [oneLinkEndpointTransport(createTransport(toCarol.a), schemes)],
  })
  const alice = createAgent({
    identity: createPeerDid(),
    resolver: didPeerResolver,
    transports: [oneLinkEndpointTransport(createTransport(toAlice.a), schemes)],
  })
  try {
    const client = await MediationClient.request(carol, identity.did)
    await client.addRecipients([carol.did])
    const content = 'picked up on Hermes'
    const sent = await alice.send(createMessage({ type: MESSAGE.type, body: { content } }), { to: carol.did })
    // for await, not [Symbol.asyncIterator]: this Hermes has no such symbol, Babel's helper copes
    const first = (async () => {
      for await (const m of carol.messages()) return m
    })()
    const picked = await client.pickup()
    const got = await first
    emit({
      case: 'mediation',
      forwardedThrough: sent.packed.forwardedThrough.length,
      picked,
      content: got?.message.body?.content,
      fromAlice: got?.message.from === alice.did,
      authenticated: got?.metadata.authenticated,
    })
  } finally {
    await alice.close()
    await carol.close()
    await mediator.close()
  }
}

export async function all(emit: Emit, fromOtherEngine: Record<string, string>): Promise<void> {
  await envelopes(emit, fromOtherEngine)
  await reliable(emit)
  await fountain(emit)
  await mediation(emit)
}
