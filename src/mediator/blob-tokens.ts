import { hkdf } from '@noble/hashes/hkdf'
import { hmac } from '@noble/hashes/hmac'
import { sha256 } from '@noble/hashes/sha2'
import { b64u } from '../didcomm/b64u.js'
import { CarrierError } from '../transport.js'
import { isBlobHash } from './blob-store.js'

/**
 * Short-lived bearer tokens for the blob endpoints, stateless: `base64url(JSON grant) "." base64url(HMAC-SHA-256)`
 * keyed by HKDF from the mediator's own private keys. Every instance serving the mediator's DID
 * (the identity is kept with the store) and every restart accepts what another issued; nothing is
 * stored. A token is only ever issued in answer to a blob-access request the mediator opened as
 * authcrypt, so holding one proves the key-agreement key of `did` was used within its lifetime.
 */
export interface BlobGrant {
  /** put: upload this blob for `recipients`; get: download (and confirm) it as `did`. */
  op: 'put' | 'get'
  hash: string
  /** The DID the token was issued to. */
  did: string
  /** Unix milliseconds. */
  exp: number
  /** put only: the blob's declared size. */
  size?: number
  /** put only: the mediated clients that may download it. */
  recipients?: string[]
}

export class BlobTokenError extends CarrierError {
  constructor(message: string) {
    super('ERR_BLOB_TOKEN', message)
  }
}

/** Longest token accepted (a put token names up to 16 did:peer:2 recipients). */
export const MAX_TOKEN_CHARS = 64 * 1024

export class BlobTokens {
  private readonly key: Uint8Array

  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length < 32) throw new BlobTokenError('a token key is at least 32 bytes')
    this.key = key
  }

  /** Keyed from an identity's private keys (the `d` of each secret JWK), so all holders of the identity agree. */
  static fromSecrets(secrets: readonly { d?: string }[]): BlobTokens {
    const material = secrets.map((s) => s.d ?? '').join('.')
    if (material.replace(/\./g, '') === '') throw new BlobTokenError('the identity has no private key to key tokens with')
    const key = hkdf(sha256, new TextEncoder().encode(material), undefined, 'didcomm-carrier blob tokens v1', 32)
    return new BlobTokens(key)
  }

  issue(g: BlobGrant): string {
    const body = b64u.encodeJson(g)
    return `${body}.${b64u.encode(hmac(sha256, this.key, new TextEncoder().encode(body)))}`
  }

  /** The grant a token carries, once its MAC and expiry check; BlobTokenError otherwise. */
  verify(token: string, now = Date.now()): BlobGrant {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw new BlobTokenError('no token, or one too long')
    const dot = token.indexOf('.')
    if (dot <= 0) throw new BlobTokenError('not a blob token')
    const body = token.slice(0, dot)
    let mac: Uint8Array
    try {
      mac = b64u.decode(token.slice(dot + 1))
    } catch {
      throw new BlobTokenError('not a blob token')
    }
    if (!equal(mac, hmac(sha256, this.key, new TextEncoder().encode(body))))
      throw new BlobTokenError('the token was not issued here')
    let g: BlobGrant
    try {
      g = JSON.parse(new TextDecoder().decode(b64u.decode(body))) as BlobGrant
    } catch {
      throw new BlobTokenError('not a blob token')
    }
    if ((g.op !== 'put' && g.op !== 'get') || !isBlobHash(g.hash) || typeof g.did !== 'string' || typeof g.exp !== 'number')
      throw new BlobTokenError('not a blob token')
    if (g.exp <= now) throw new BlobTokenError('the token expired: ask for another')
    return g
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}
