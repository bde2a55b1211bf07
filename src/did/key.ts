import { edwardsToMontgomeryPriv, edwardsToMontgomeryPub } from '@noble/curves/ed25519'
import { b64u } from '../didcomm/b64u.js'
import { err } from '../didcomm/errors.js'
import { generateSigningKey, type Jwk } from '../didcomm/keys.js'
import { type DIDDocument, jwkToMultikey, multikeyToJwk, type Resolver } from './document.js'

/**
 * did:key for Ed25519 (with its X25519 key derived for key agreement, as did:key specifies) and
 * P-256 (one key for both purposes).
 */
export function didKeyDocument(did: string): DIDDocument {
  if (!did.startsWith('did:key:z')) throw err.didNotFound(`not a did:key: ${did}`)
  const mb = did.slice('did:key:'.length)
  const jwk = multikeyToJwk(mb)
  const signing = { id: `${did}#${mb}`, type: 'Multikey', controller: did, publicKeyMultibase: mb }
  if (jwk.crv === 'Ed25519') {
    const x = jwkToMultikey({ kty: 'OKP', crv: 'X25519', x: b64u.encode(edwardsToMontgomeryPub(b64u.decode(jwk.x))) })
    const agreement = { id: `${did}#${x}`, type: 'Multikey', controller: did, publicKeyMultibase: x }
    return {
      id: did,
      verificationMethod: [signing, agreement],
      authentication: [signing.id],
      assertionMethod: [signing.id],
      keyAgreement: [agreement.id],
    }
  }
  if (jwk.crv === 'P-256') {
    return {
      id: did,
      verificationMethod: [signing],
      authentication: [signing.id],
      assertionMethod: [signing.id],
      keyAgreement: [signing.id],
    }
  }
  throw err.unsupported(`did:key of ${jwk.crv}`)
}

export const didKeyResolver: Resolver = {
  resolve: async (did) => (did.startsWith('did:key:') ? didKeyDocument(did) : null),
}

/** A new did:key with its private keys, named by their key ids (for a Secrets store). */
export function createDidKey(crv: 'Ed25519' | 'P-256' = 'Ed25519'): { did: string; secrets: (Jwk & { kid: string })[] } {
  const key = generateSigningKey(crv)
  const mb = jwkToMultikey(key)
  const did = `did:key:${mb}`
  const secrets: (Jwk & { kid: string })[] = [{ ...key, kid: `${did}#${mb}` }]
  if (crv === 'Ed25519') {
    const d = b64u.decode(key.d as string)
    const xPriv = edwardsToMontgomeryPriv(d)
    const xPub = edwardsToMontgomeryPub(b64u.decode(key.x))
    const xmb = jwkToMultikey({ kty: 'OKP', crv: 'X25519', x: b64u.encode(xPub) })
    secrets.push({ kty: 'OKP', crv: 'X25519', x: b64u.encode(xPub), d: b64u.encode(xPriv), kid: `${did}#${xmb}` })
  }
  return { did, secrets }
}
