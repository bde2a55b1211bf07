import { p256 } from '@noble/curves/nist'
import { base58 } from '@scure/base'
import { b64u } from '../didcomm/b64u.js'
import { err } from '../didcomm/errors.js'
import type { Jwk } from '../didcomm/keys.js'

const b64url = b64u.encode

export interface VerificationMethod {
  id: string
  type: string
  controller: string
  publicKeyJwk?: Jwk
  publicKeyMultibase?: string
}

export interface ServiceEndpoint {
  uri: string
  accept?: string[]
  routingKeys?: string[]
}

export interface Service {
  id: string
  type: string | string[]
  serviceEndpoint: string | ServiceEndpoint | ServiceEndpoint[]
}

export interface DIDDocument {
  id: string
  verificationMethod?: VerificationMethod[]
  authentication?: (string | VerificationMethod)[]
  assertionMethod?: (string | VerificationMethod)[]
  keyAgreement?: (string | VerificationMethod)[]
  service?: Service[]
  [k: string]: unknown
}

export interface Resolver {
  resolve(did: string): Promise<DIDDocument | null>
}

export interface Secrets {
  get(kid: string): Promise<Jwk | null>
}

/** The DID of a DID URL (drops path, query and fragment). */
export function didOf(didUrl: string): string {
  return didUrl.split(/[#?/]/, 1)[0] as string
}

function absolute(doc: DIDDocument, id: string): string {
  return id.startsWith('#') ? `${doc.id}${id}` : id
}

/** Every verification method of a relationship, as objects with absolute ids. */
export function methods(
  doc: DIDDocument,
  relationship: 'keyAgreement' | 'authentication' | 'assertionMethod',
): VerificationMethod[] {
  return (doc[relationship] ?? []).flatMap((m) => {
    if (typeof m !== 'string') return [{ ...m, id: absolute(doc, m.id) }]
    const id = absolute(doc, m)
    const vm = doc.verificationMethod?.find((v) => absolute(doc, v.id) === id)
    return vm ? [{ ...vm, id }] : []
  })
}

export async function resolveOrThrow(resolver: Resolver, did: string): Promise<DIDDocument> {
  const doc = await resolver.resolve(did)
  if (!doc) throw err.didNotFound(`cannot resolve ${did}`)
  return doc
}

/** The public JWK of a key named by its DID URL, taken from the given relationship(s). */
export async function publicKey(
  resolver: Resolver,
  kid: string,
  relationships: ('keyAgreement' | 'authentication' | 'assertionMethod')[],
): Promise<Jwk> {
  const doc = await resolveOrThrow(resolver, didOf(kid))
  for (const r of relationships) {
    const vm = methods(doc, r).find((m) => m.id === kid)
    if (vm) return jwkOf(vm)
  }
  throw err.noKey(`${kid} is not a ${relationships.join(' or ')} key of ${doc.id}`)
}

export function jwkOf(vm: VerificationMethod): Jwk {
  if (vm.publicKeyJwk) return vm.publicKeyJwk
  if (vm.publicKeyMultibase) return multikeyToJwk(vm.publicKeyMultibase)
  throw err.unsupported(`verification method ${vm.id} has no publicKeyJwk or publicKeyMultibase`)
}

// multicodec prefixes (varint) of the keys DIDComm uses
const ED25519 = [0xed, 0x01]
const X25519 = [0xec, 0x01]
const P256 = [0x80, 0x24]

/** Multikeys decoded most recently (base58 decoding per message opened showed in a file's profile). */
const RECENT_KEYS = 64
const recentKeys = new Map<string, Jwk>()

export function multikeyToJwk(multibase: string): Jwk {
  let jwk = recentKeys.get(multibase)
  if (!jwk) {
    jwk = decodeMultikey(multibase)
    if (recentKeys.size >= RECENT_KEYS) recentKeys.delete(recentKeys.keys().next().value as string)
    recentKeys.set(multibase, jwk)
  }
  return { ...jwk }
}

function decodeMultikey(multibase: string): Jwk {
  if (!multibase.startsWith('z')) throw err.unsupported('multibase other than base58btc')
  const bytes = base58.decode(multibase.slice(1))
  const is = (p: number[]) => bytes[0] === p[0] && bytes[1] === p[1]
  const key = bytes.subarray(2)
  const x = b64url(key)
  if (is(ED25519) && key.length === 32) return { kty: 'OKP', crv: 'Ed25519', x }
  if (is(X25519) && key.length === 32) return { kty: 'OKP', crv: 'X25519', x }
  if (is(P256) && key.length === 33) {
    const point = p256.ProjectivePoint.fromHex(key).toRawBytes(false)
    return { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) }
  }
  throw err.unsupported('multikey of an unsupported key type')
}

export function jwkToMultikey(jwk: Jwk): string {
  const x = b64u.decode(jwk.x)
  let prefixed: Uint8Array
  if (jwk.crv === 'Ed25519') prefixed = Uint8Array.of(...ED25519, ...x)
  else if (jwk.crv === 'X25519') prefixed = Uint8Array.of(...X25519, ...x)
  else if (jwk.crv === 'P-256' && jwk.y) {
    const point = p256.ProjectivePoint.fromHex(Uint8Array.of(4, ...x, ...b64u.decode(jwk.y)))
    prefixed = Uint8Array.of(...P256, ...point.toRawBytes(true))
  } else throw err.unsupported(`multikey for ${jwk.crv}`)
  return `z${base58.encode(prefixed)}`
}

/** A resolver over fixed documents, and a secrets store over fixed private keys. */
export function staticResolver(docs: DIDDocument[]): Resolver {
  const byId = new Map(docs.map((d) => [d.id, d]))
  return { resolve: async (did) => byId.get(did) ?? null }
}

export function staticSecrets(keys: (Jwk & { kid: string })[]): Secrets {
  const byKid = new Map(keys.map((k) => [k.kid, k]))
  return { get: async (kid) => byKid.get(kid) ?? null }
}

/** Tries each resolver in turn (did:key, did:peer, then a static one…). */
export function chainResolvers(...resolvers: Resolver[]): Resolver {
  return {
    async resolve(did) {
      for (const r of resolvers) {
        const d = await r.resolve(did)
        if (d) return d
      }
      return null
    },
  }
}
