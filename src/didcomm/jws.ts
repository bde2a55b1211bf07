import { b64u } from './b64u.js'
import { err } from './errors.js'
import { type Jwk, type SignAlg, sign, signAlgFor, verify } from './keys.js'

export const TYP_SIGNED = 'application/didcomm-signed+json'

export interface GeneralJws {
  payload: string
  signatures: { protected: string; signature: string; header?: { kid: string } }[]
}

/**
 * `compat: 'veramo'` puts kid in the protected header instead of the unprotected one: Veramo 7
 * reads it only there (a header name may not be in both, RFC 7515 §7.2.1).
 */
export function signJws(payload: Uint8Array, signers: { kid: string; key: Jwk }[], compat?: 'veramo'): GeneralJws {
  const p = b64u.encode(payload)
  return {
    payload: p,
    signatures: signers.map((s) => {
      const alg = signAlgFor(s.key)
      const prot = b64u.encodeJson(compat === 'veramo' ? { typ: TYP_SIGNED, alg, kid: s.kid } : { typ: TYP_SIGNED, alg })
      const sig = b64u.encode(sign(s.key, new TextEncoder().encode(`${prot}.${p}`)))
      return compat === 'veramo'
        ? { protected: prot, signature: sig }
        : { protected: prot, signature: sig, header: { kid: s.kid } }
    }),
  }
}

const ALG_CURVE: Record<SignAlg, string> = { EdDSA: 'Ed25519', ES256: 'P-256', ES256K: 'secp256k1' }

/** Verifies every signature (General or Flattened JSON); returns the payload and the signers' kids. */
export async function verifyJws(
  jws: Record<string, unknown>,
  keyFor: (kid: string) => Promise<Jwk>,
): Promise<{ payload: Uint8Array; kids: string[]; algs: string[] }> {
  if (typeof jws.payload !== 'string') throw err.malformed('JWS without payload')
  const sigs = Array.isArray(jws.signatures)
    ? (jws.signatures as Record<string, unknown>[])
    : [{ protected: jws.protected, signature: jws.signature, header: jws.header }]
  if (sigs.length === 0) throw err.malformed('JWS without signatures')
  const kids: string[] = []
  const algs: string[] = []
  for (const s of sigs) {
    if (typeof s.protected !== 'string' || typeof s.signature !== 'string')
      throw err.malformed('JWS signature without protected or signature')
    let header: { alg?: string; kid?: string; typ?: string }
    try {
      header = JSON.parse(new TextDecoder().decode(b64u.decode(s.protected)))
    } catch {
      throw err.malformed('JWS protected header is not base64url JSON')
    }
    const kid = (s.header as { kid?: unknown } | undefined)?.kid ?? header.kid
    if (typeof kid !== 'string') throw err.malformed('JWS signature without kid')
    const alg = header.alg as SignAlg
    if (!(alg in ALG_CURVE)) throw err.unsupported(`signature algorithm ${String(header.alg)}`)
    const key = await keyFor(kid)
    if (key.crv !== ALG_CURVE[alg]) throw err.signature(`${alg} signature by a ${key.crv} key`)
    let sig: Uint8Array
    try {
      sig = b64u.decode(s.signature)
    } catch {
      throw err.malformed('JWS signature is not base64url')
    }
    if (!verify(key, new TextEncoder().encode(`${s.protected}.${jws.payload}`), sig))
      throw err.signature(`bad ${alg} signature by ${kid}`)
    kids.push(kid)
    algs.push(alg)
  }
  return { payload: b64u.decode(jws.payload), kids, algs }
}
