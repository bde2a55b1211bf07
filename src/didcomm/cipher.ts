import { aeskw, cbc, gcm } from '@noble/ciphers/aes'
import { xchacha20poly1305 } from '@noble/ciphers/chacha'
import { randomBytes } from '@noble/ciphers/webcrypto'
import { hmac } from '@noble/hashes/hmac'
import { sha512 } from '@noble/hashes/sha2'
import { err } from './errors.js'
import { node, sha256 } from './native.js'

/** JWE content encryption: A256CBC-HS512 (required by DIDComm), A256GCM, XC20P. */
export type Enc = 'A256CBC-HS512' | 'A256GCM' | 'XC20P'
export const ENCS: Enc[] = ['A256CBC-HS512', 'A256GCM', 'XC20P']

const SIZES: Record<Enc, { key: number; iv: number }> = {
  'A256CBC-HS512': { key: 64, iv: 16 },
  A256GCM: { key: 32, iv: 12 },
  XC20P: { key: 32, iv: 24 },
}

export function assertEnc(enc: unknown): asserts enc is Enc {
  if (typeof enc !== 'string' || !(enc in SIZES)) throw err.unsupported(`content encryption ${String(enc)}`)
}

export function cekFor(enc: Enc): Uint8Array {
  return randomBytes(SIZES[enc].key)
}

function be64(n: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return new Uint8Array(a.buffer, a.byteOffset, a.length)
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function cbcHsTag(macKey: Uint8Array, aad: Uint8Array, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  if (node) {
    const h = node.createHmac('sha512', macKey)
    h.update(aad)
    h.update(iv)
    h.update(ct)
    h.update(be64(aad.length * 8))
    return new Uint8Array(h.digest().subarray(0, 32))
  }
  const h = hmac.create(sha512, macKey)
  h.update(aad)
    .update(iv)
    .update(ct)
    .update(be64(aad.length * 8))
  return h.digest().subarray(0, 32)
}

function aesCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (node) {
    const c = encrypt ? node.createCipheriv('aes-256-cbc', key, iv) : node.createDecipheriv('aes-256-cbc', key, iv)
    return joined(c.update(data), c.final())
  }
  return encrypt ? cbc(key, iv).encrypt(data) : cbc(key, iv).decrypt(data)
}

/** AES-256-GCM seal: ciphertext ‖ 16-byte tag (OpenSSL where Node has it, @noble otherwise). */
export function aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array {
  if (node) {
    const c = node.createCipheriv('aes-256-gcm', key, iv)
    c.setAAD(aad)
    const ct = joined(c.update(data), c.final())
    return joined(ct, c.getAuthTag())
  }
  return gcm(key, iv, aad).encrypt(data)
}

/** AES-256-GCM open; throws on a tag mismatch (callers map it to their own typed error). */
export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array): Uint8Array {
  if (node) {
    const d = node.createDecipheriv('aes-256-gcm', key, iv)
    d.setAAD(aad)
    d.setAuthTag(tag)
    return joined(d.update(ct), d.final())
  }
  return gcm(key, iv, aad).decrypt(joined(ct, tag))
}

export function encryptContent(
  enc: Enc,
  cek: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array } {
  const iv = randomBytes(SIZES[enc].iv)
  if (enc === 'A256CBC-HS512') {
    const ciphertext = aesCbc(true, cek.subarray(32), iv, plaintext)
    return { iv, ciphertext, tag: cbcHsTag(cek.subarray(0, 32), aad, iv, ciphertext) }
  }
  const sealed = enc === 'A256GCM' ? aesGcmEncrypt(cek, iv, aad, plaintext) : xchacha20poly1305(cek, iv, aad).encrypt(plaintext)
  return { iv, ciphertext: sealed.subarray(0, sealed.length - 16), tag: sealed.subarray(sealed.length - 16) }
}

export function decryptContent(
  enc: Enc,
  cek: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  if (cek.length !== SIZES[enc].key || iv.length !== SIZES[enc].iv) throw err.decrypt(`bad key or iv length for ${enc}`)
  try {
    if (enc === 'A256CBC-HS512') {
      const expected = cbcHsTag(cek.subarray(0, 32), aad, iv, ciphertext)
      if (!constantTimeEqual(expected, tag)) throw err.decrypt('authentication tag mismatch')
      return aesCbc(false, cek.subarray(32), iv, ciphertext)
    }
    if (enc === 'A256GCM') return aesGcmDecrypt(cek, iv, aad, ciphertext, tag)
    return xchacha20poly1305(cek, iv, aad).decrypt(joined(ciphertext, tag))
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e
    throw err.decrypt(`content decryption failed (${enc})`)
  }
}

/** RFC 3394's initial value: A256KW's integrity check. */
const KW_IV = new Uint8Array(8).fill(0xa6)

export function wrapKey(kek: Uint8Array, cek: Uint8Array): Uint8Array {
  if (node && kek.length === 32) {
    const c = node.createCipheriv('id-aes256-wrap', kek, KW_IV)
    return joined(c.update(cek), c.final())
  }
  return aeskw(kek).encrypt(cek)
}

export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  try {
    if (node && kek.length === 32) {
      const d = node.createDecipheriv('id-aes256-wrap', kek, KW_IV)
      return joined(d.update(wrapped), d.final())
    }
    return aeskw(kek).decrypt(wrapped)
  } catch {
    throw err.decrypt('key unwrap failed')
  }
}

function lenPrefixed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length)
  new DataView(out.buffer).setUint32(0, b.length)
  out.set(b, 4)
  return out
}

/**
 * Concat KDF (RFC 7518 §4.6.2) for a 256-bit key-wrapping key. For ECDH-1PU (draft-madden-04)
 * the content tag follows keydatalen in SuppPubInfo.
 */
export function concatKdf(z: Uint8Array, alg: string, apu: Uint8Array, apv: Uint8Array, tag?: Uint8Array): Uint8Array {
  const supp = new Uint8Array(4 + (tag ? 4 + tag.length : 0))
  const dv = new DataView(supp.buffer)
  dv.setUint32(0, 256)
  if (tag) {
    dv.setUint32(4, tag.length)
    supp.set(tag, 8)
  }
  return sha256(
    Uint8Array.of(0, 0, 0, 1),
    z,
    lenPrefixed(new TextEncoder().encode(alg)),
    lenPrefixed(apu),
    lenPrefixed(apv),
    supp,
  )
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}
