import { ed25519, x25519 } from '@noble/curves/ed25519'
import { p256, p384, p521 } from '@noble/curves/nist'
import { secp256k1 } from '@noble/curves/secp256k1'
import { b64u } from './b64u.js'
import { err } from './errors.js'
import { type KeyObject, node } from './native.js'

/** A JSON Web Key as DIDComm uses them (OKP and EC), public or private. */
export interface Jwk {
  kty: 'OKP' | 'EC' | string
  crv: string
  x: string
  y?: string
  d?: string
  kid?: string
  [k: string]: unknown
}

export type AgreementCurve = 'X25519' | 'P-256' | 'P-384' | 'P-521'
export const AGREEMENT_CURVES: AgreementCurve[] = ['X25519', 'P-256', 'P-384', 'P-521']

const NODE_CURVES: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }

function bareJwk(j: Jwk, withPrivate: boolean): object {
  return { kty: j.kty, crv: j.crv, x: j.x, ...(j.y ? { y: j.y } : {}), ...(withPrivate ? { d: j.d } : {}) }
}

/**
 * Our own private keys as OpenSSL key objects, made once: importing a JWK costs more than the
 * agreement itself (a mediator unwraps every forward with the same key). Bounded; the oldest go.
 */
const privateKeys = new Map<string, KeyObject>()
const PRIVATE_KEYS_MAX = 256

function privateKeyObject(n: NonNullable<typeof node>, j: Jwk): KeyObject {
  const id = `${j.crv}:${j.x}:${j.d}`
  let key = privateKeys.get(id)
  if (key === undefined) {
    key = n.createPrivateKey({ key: bareJwk(j, true), format: 'jwk' })
    if (privateKeys.size >= PRIVATE_KEYS_MAX) privateKeys.delete(privateKeys.keys().next().value as string)
    privateKeys.set(id, key)
  }
  return key
}

type Weierstrass = typeof p256
const NIST: Record<string, { curve: Weierstrass; size: number }> = {
  'P-256': { curve: p256, size: 32 },
  'P-384': { curve: p384 as unknown as Weierstrass, size: 48 },
  'P-521': { curve: p521 as unknown as Weierstrass, size: 66 },
  secp256k1: { curve: secp256k1 as unknown as Weierstrass, size: 32 },
}

function uncompressed(jwk: Jwk, size: number): Uint8Array {
  if (!jwk.y) throw err.invalidKey(`${jwk.crv} key without y`)
  const x = b64u.decode(jwk.x)
  const y = b64u.decode(jwk.y)
  if (x.length !== size || y.length !== size) throw err.invalidKey(`${jwk.crv} coordinates of the wrong length`)
  const out = new Uint8Array(1 + 2 * size)
  out[0] = 4
  out.set(x, 1)
  out.set(y, 1 + size)
  return out
}

/** Checks that a public key is a valid point on its curve (for NIST curves: on the curve, not infinity). */
export function assertValidPublicKey(jwk: Jwk): void {
  try {
    if (jwk.kty === 'OKP') {
      if (jwk.crv !== 'X25519' && jwk.crv !== 'Ed25519') throw err.unsupported(`curve ${jwk.crv}`)
      if (b64u.decode(jwk.x).length !== 32) throw err.invalidKey(`${jwk.crv} key of the wrong length`)
      return
    }
    const n = NIST[jwk.crv]
    if (jwk.kty !== 'EC' || !n) throw err.unsupported(`key type ${jwk.kty}/${jwk.crv}`)
    n.curve.ProjectivePoint.fromHex(uncompressed(jwk, n.size)).assertValidity()
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e
    throw err.invalidKey(`${jwk.crv} public key is not a point on the curve`)
  }
}

/** ECDH shared secret: the x coordinate (NIST) or the X25519 output. */
export function ecdh(priv: Jwk, pub: Jwk): Uint8Array {
  if (priv.crv !== pub.crv) throw err.invalidKey(`key agreement between ${priv.crv} and ${pub.crv}`)
  if (!priv.d) throw err.invalidKey('private key without d')
  assertValidPublicKey(pub)
  if (node && (priv.crv === 'X25519' || NODE_CURVES[priv.crv])) {
    let z: Uint8Array
    try {
      z = new Uint8Array(
        node.diffieHellman({
          privateKey: privateKeyObject(node, priv),
          publicKey: node.createPublicKey({ key: bareJwk(pub, false), format: 'jwk' }),
        }),
      )
    } catch {
      throw err.invalidKey(`${priv.crv} key agreement failed`)
    }
    if (z.every((b) => b === 0)) throw err.invalidKey('shared secret is zero (low-order point)')
    return z
  }
  if (priv.crv === 'X25519') {
    const z = x25519.getSharedSecret(b64u.decode(priv.d), b64u.decode(pub.x))
    if (z.every((b) => b === 0)) throw err.invalidKey('X25519 shared secret is zero (low-order point)')
    return z
  }
  const n = NIST[priv.crv]
  if (!n || priv.crv === 'secp256k1') throw err.unsupported(`key agreement on ${priv.crv}`)
  return n.curve.getSharedSecret(b64u.decode(priv.d), uncompressed(pub, n.size), false).subarray(1, 1 + n.size)
}

/** A fresh key pair on an agreement curve (the JWE's epk). */
export function generateAgreementKey(crv: string): Jwk {
  if (node && (crv === 'X25519' || NODE_CURVES[crv])) {
    // The JWK comes out of the generation itself: exporting a generated KeyObject afterwards can
    // deadlock Node 20 (a GC during ExportJWK destroys the finished KeyGenJob, which takes the
    // key's mutex the export holds — seen as a test process hung in futex_wait).
    const jwk = { privateKeyEncoding: { format: 'jwk' as const }, publicKeyEncoding: { format: 'jwk' as const } }
    const { privateKey } =
      crv === 'X25519'
        ? node.generateKeyPairSync('x25519', jwk)
        : node.generateKeyPairSync('ec', { namedCurve: NODE_CURVES[crv] as string, ...jwk })
    return bareJwk(privateKey as Jwk, true) as Jwk
  }
  if (crv === 'X25519') {
    const d = x25519.utils.randomPrivateKey()
    return { kty: 'OKP', crv, x: b64u.encode(x25519.getPublicKey(d)), d: b64u.encode(d) }
  }
  return generateEcKey(crv)
}

function generateEcKey(crv: string): Jwk {
  const n = NIST[crv]
  if (!n) throw err.unsupported(`curve ${crv}`)
  const d = n.curve.utils.randomPrivateKey()
  const pub = n.curve.getPublicKey(d, false)
  return {
    kty: 'EC',
    crv,
    x: b64u.encode(pub.subarray(1, 1 + n.size)),
    y: b64u.encode(pub.subarray(1 + n.size)),
    d: b64u.encode(d),
  }
}

export function generateSigningKey(crv: 'Ed25519' | 'P-256' | 'secp256k1'): Jwk {
  if (crv === 'Ed25519') {
    const d = ed25519.utils.randomPrivateKey()
    return { kty: 'OKP', crv, x: b64u.encode(ed25519.getPublicKey(d)), d: b64u.encode(d) }
  }
  return generateEcKey(crv)
}

export function publicJwk(jwk: Jwk): Jwk {
  const { d: _d, ...pub } = jwk
  return pub
}

export type SignAlg = 'EdDSA' | 'ES256' | 'ES256K'

export function signAlgFor(jwk: Jwk): SignAlg {
  if (jwk.crv === 'Ed25519') return 'EdDSA'
  if (jwk.crv === 'P-256') return 'ES256'
  if (jwk.crv === 'secp256k1') return 'ES256K'
  throw err.unsupported(`no signature algorithm for ${jwk.crv}`)
}

export function sign(priv: Jwk, data: Uint8Array): Uint8Array {
  if (!priv.d) throw err.invalidKey('private key without d')
  if (node && (priv.crv === 'Ed25519' || priv.crv === 'P-256')) {
    const key = privateKeyObject(node, priv)
    return new Uint8Array(
      priv.crv === 'Ed25519' ? node.sign(null, data, key) : node.sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
    )
  }
  // secp256k1 stays on @noble: it emits low-S signatures, which k256-based verifiers require
  const d = b64u.decode(priv.d)
  if (priv.crv === 'Ed25519') return ed25519.sign(data, d)
  const n = NIST[priv.crv]
  if (!n || priv.crv === 'P-384' || priv.crv === 'P-521') throw err.unsupported(`signing with ${priv.crv}`)
  return n.curve.sign(data, d, { prehash: true, lowS: true }).toCompactRawBytes()
}

export function verify(pub: Jwk, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (node && (pub.crv === 'Ed25519' || pub.crv === 'P-256' || pub.crv === 'secp256k1')) {
      const key = node.createPublicKey({ key: bareJwk(pub, false), format: 'jwk' })
      return pub.crv === 'Ed25519'
        ? node.verify(null, data, key, signature)
        : node.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    }
    if (pub.crv === 'Ed25519') return ed25519.verify(signature, data, b64u.decode(pub.x))
    const n = NIST[pub.crv]
    if (!n) throw err.unsupported(`verifying with ${pub.crv}`)
    // JWS does not require low-S; other implementations emit high-S signatures
    return n.curve.verify(signature, data, uncompressed(pub, n.size), { prehash: true, lowS: false })
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e
    return false
  }
}
