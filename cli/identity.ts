import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { chainResolvers, type DIDDocument, type Resolver, staticResolver } from '../src/did/document.js'
import { didKeyResolver } from '../src/did/key.js'
import { didPeerResolver, type PeerIdentity } from '../src/did/peer.js'

/** An identity file written by `carrier keys new`. */
export async function loadIdentity(file: string): Promise<PeerIdentity> {
  let id: PeerIdentity | undefined
  try {
    id = JSON.parse(await readFile(file, 'utf8')) as PeerIdentity
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
  }
  if (typeof id?.did !== 'string' || !Array.isArray(id.secrets))
    throw new Error(`${file} is not an identity file (carrier keys new)`)
  return id
}

/** did:peer and did:key, plus these documents (e.g. our own). */
export function resolverWith(...docs: DIDDocument[]): Resolver {
  return chainResolvers(didPeerResolver, didKeyResolver, staticResolver(docs))
}

/** The identity's own endpoint: --via, or the first DIDCommMessaging service of its document. */
export function hasEndpoint(id: PeerIdentity): boolean {
  return (id.document.service ?? []).some((s) => (Array.isArray(s.type) ? s.type : [s.type]).includes('DIDCommMessaging'))
}

export function ownEndpoint(id: PeerIdentity, via?: string): string {
  if (via) return via
  const svc = id.document.service?.find((s) => (Array.isArray(s.type) ? s.type : [s.type]).includes('DIDCommMessaging'))
  const ep = Array.isArray(svc?.serviceEndpoint) ? svc?.serviceEndpoint[0] : svc?.serviceEndpoint
  const uri = typeof ep === 'string' ? ep : ep?.uri
  if (!uri) throw new Error(`${id.did} has no service endpoint: make it with carrier keys new --service URI, or pass --via URI`)
  return uri
}

/**
 * A short tag for an identity's MQTT client ids: a hash of the whole DID. (Its tail would not do:
 * did:peer:2 DIDs with services on one broker end alike, and a broker disconnects the older of
 * two clients with one id.)
 */
export function didTag(did: string): string {
  return createHash('sha256').update(did).digest('hex').slice(0, 16)
}
