import { sha256 as nobleSha256 } from '@noble/hashes/sha2'

/**
 * Node's OpenSSL through process.getBuiltinModule — no import, so browsers and React Native take
 * the @noble path. Natively, X25519/P-256 agreement is ~50× the BigInt implementations and the
 * ciphers (AES-NI) several times the pure JS ones; together they decide the cost of a message.
 */
export type KeyObject = { export(o: { format: 'jwk' }): object }
export type NodeCipher = {
  update(d: Uint8Array): Uint8Array
  final(): Uint8Array
  setAAD(a: Uint8Array): void
  getAuthTag(): Uint8Array
  setAuthTag(t: Uint8Array): void
}
export type NodeCrypto = {
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher
  createHmac(alg: string, key: Uint8Array): { update(d: Uint8Array): unknown; digest(): Uint8Array }
  createHash(alg: string): { update(d: Uint8Array): unknown; digest(): Uint8Array }
  createPrivateKey(o: { key: object; format: 'jwk' }): KeyObject
  createPublicKey(o: { key: object; format: 'jwk' }): KeyObject
  diffieHellman(o: { privateKey: KeyObject; publicKey: KeyObject }): Uint8Array
  generateKeyPairSync(
    type: string,
    o: { namedCurve?: string; privateKeyEncoding: { format: 'jwk' }; publicKeyEncoding: { format: 'jwk' } },
  ): { privateKey: object }
  sign(alg: string | null, data: Uint8Array, key: KeyObject | { key: KeyObject; dsaEncoding: string }): Uint8Array
  verify(alg: string | null, data: Uint8Array, key: KeyObject | { key: KeyObject; dsaEncoding: string }, sig: Uint8Array): boolean
}

export const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:crypto',
) as NodeCrypto | undefined

/** SHA-256 of the parts, in order. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (node) {
    const h = node.createHash('sha256')
    for (const p of parts) h.update(p)
    return new Uint8Array(h.digest())
  }
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}
