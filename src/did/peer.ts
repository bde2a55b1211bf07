import { b64u } from '../didcomm/b64u.js'
import { err } from '../didcomm/errors.js'
import { generateAgreementKey, generateSigningKey, type Jwk } from '../didcomm/keys.js'
import { type DIDDocument, jwkToMultikey, type Resolver, type Service, type ServiceEndpoint } from './document.js'

/**
 * did:peer:2 (peer DID method spec): the DID is the list of its keys — E key agreement,
 * V authentication, A assertion — and S services (abbreviated JSON, base64url). Keys are #key-1,
 * #key-2… in the order they appear; services #service, #service-1…
 */
const PURPOSE: Record<string, 'keyAgreement' | 'authentication' | 'assertionMethod'> = {
  E: 'keyAgreement',
  V: 'authentication',
  A: 'assertionMethod',
}

const ABBREV: [string, string][] = [
  ['type', 't'],
  ['serviceEndpoint', 's'],
  ['routingKeys', 'r'],
  ['accept', 'a'],
]

function abbreviate(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(abbreviate)
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        ABBREV.find(([l]) => l === k)?.[1] ?? k,
        x === 'DIDCommMessaging' ? 'dm' : abbreviate(x),
      ]),
    )
  }
  return v
}

function expand(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expand)
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => {
        const key = ABBREV.find(([, s]) => s === k)?.[0] ?? k
        return [key, key === 'type' && x === 'dm' ? 'DIDCommMessaging' : expand(x)]
      }),
    )
  }
  return v
}

export function didPeer2Document(did: string): DIDDocument {
  if (!did.startsWith('did:peer:2.')) throw err.didNotFound(`not a did:peer:2: ${did}`)
  const doc: DIDDocument = {
    id: did,
    verificationMethod: [],
    authentication: [],
    assertionMethod: [],
    keyAgreement: [],
    service: [],
  }
  let keyN = 0
  let serviceN = 0
  for (const part of did.slice('did:peer:2.'.length).split('.')) {
    const code = part[0] as string
    const value = part.slice(1)
    if (code === 'S') {
      let decoded: unknown
      try {
        decoded = expand(JSON.parse(new TextDecoder().decode(b64u.decode(value))))
      } catch {
        throw err.malformed('did:peer:2 service is not base64url JSON')
      }
      // one service per S element (the spec), or an array of them — empty (`SW10`, "[]") is how
      // the Identus SDK says "no service"
      for (const svc of Array.isArray(decoded) ? decoded : [decoded]) {
        if (
          !svc ||
          typeof svc !== 'object' ||
          Array.isArray(svc) ||
          (typeof svc.type !== 'string' && !Array.isArray(svc.type)) ||
          !svc.serviceEndpoint
        ) {
          throw err.malformed('did:peer:2 service without type or serviceEndpoint')
        }
        const id = typeof svc.id === 'string' ? svc.id : serviceN === 0 ? '#service' : `#service-${serviceN}`
        serviceN++
        doc.service?.push({ ...(svc as Service), id: id.startsWith('#') ? `${did}${id}` : id })
      }
      continue
    }
    const purpose = PURPOSE[code]
    if (!purpose || !value.startsWith('z')) throw err.malformed(`did:peer:2 element ${part.slice(0, 8)}…`)
    const id = `${did}#key-${++keyN}`
    doc.verificationMethod?.push({ id, type: 'Multikey', controller: did, publicKeyMultibase: value })
    ;(doc[purpose] as string[]).push(id)
  }
  if (doc.service?.length === 0) delete doc.service
  return doc
}

/** Documents of the DIDs resolved most recently: a file moves as hundreds of sends to one DID. */
const RECENT_DOCUMENTS = 64
const recent = new Map<string, DIDDocument>()

/**
 * did:peer:2, resolved from the DID itself. A document is a function of its DID, so the last
 * RECENT_DOCUMENTS are kept, each caller getting its own copy (decoding one per chunk sent and per
 * status opened was ~3 % of a 256 MB file's sender CPU).
 */
export const didPeerResolver: Resolver = {
  resolve: async (did) => {
    if (!did.startsWith('did:peer:2.')) return null
    let doc = recent.get(did)
    if (!doc) {
      doc = didPeer2Document(did)
      if (recent.size >= RECENT_DOCUMENTS) recent.delete(recent.keys().next().value as string)
      recent.set(did, doc)
    }
    // a document is JSON; structuredClone is not in every runtime (Hermes has none)
    return JSON.parse(JSON.stringify(doc)) as DIDDocument
  },
}

export interface PeerIdentity {
  did: string
  /** Private keys, each named by its kid (a Secrets store takes them as they are). */
  secrets: (Jwk & { kid: string })[]
  document: DIDDocument
}

/**
 * A new did:peer:2 identity: an X25519 key agreement key (#key-1), an Ed25519 authentication key
 * (#key-2) and, when given, DIDCommMessaging services (uri, accept, routingKeys), in order of preference.
 */
export function createPeerDid(o: { service?: ServiceEndpoint | ServiceEndpoint[] } = {}): PeerIdentity {
  const agreement = generateAgreementKey('X25519')
  const signing = generateSigningKey('Ed25519')
  const parts = [`E${jwkToMultikey(agreement)}`, `V${jwkToMultikey(signing)}`]
  for (const service of o.service === undefined ? [] : Array.isArray(o.service) ? o.service : [o.service]) {
    parts.push(
      `S${b64u.encodeJson(abbreviate({ type: 'DIDCommMessaging', serviceEndpoint: { accept: ['didcomm/v2'], ...service } }))}`,
    )
  }
  const did = `did:peer:2.${parts.join('.')}`
  return {
    did,
    secrets: [
      { ...agreement, kid: `${did}#key-1` },
      { ...signing, kid: `${did}#key-2` },
    ],
    document: didPeer2Document(did),
  }
}
