import { sha256 as nobleSha256 } from '@noble/hashes/sha256'
import { createXxh64 } from './xxh64.js'

/**
 * SHA-256 of a whole message. Node's native hash (through process.getBuiltinModule, no import) is
 * ~2× WebCrypto there because WebCrypto copies the input to another thread; browsers use
 * WebCrypto; runtimes with neither (React Native) use @noble/hashes.
 */
type NodeHash = { update(d: Uint8Array): NodeHash; digest(): Uint8Array }
type NodeCrypto = { createHash(alg: string): NodeHash }

const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:crypto',
) as NodeCrypto | undefined

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  if (nodeCrypto) {
    const d = nodeCrypto.createHash('sha256').update(data).digest()
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
  }
  const subtle = globalThis.crypto?.subtle
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>))
  return nobleSha256(data)
}

export interface IncrementalDigest {
  update(data: Uint8Array): void
  digest(): Uint8Array
}

/**
 * The digest that ends a stream: SHA-256, or XXH64 on links whose frames arrive intact (a TCP or
 * TLS stream underneath), where it only has to catch misassembly — an unkeyed digest never stops
 * an attacker who can rewrite frames; DIDComm's own encryption and signatures do that.
 */
export type DigestKind = 'sha256' | 'xxh64'

export function digestLength(kind: DigestKind): number {
  return kind === 'xxh64' ? 8 : 32
}

export function createDigest(kind: DigestKind): IncrementalDigest {
  return kind === 'xxh64' ? createXxh64() : createSha256()
}

/** SHA-256 fed piece by piece, so a transfer hashes its bytes while it waits for the network. */
export function createSha256(): IncrementalDigest {
  if (nodeCrypto) {
    const h = nodeCrypto.createHash('sha256')
    return {
      update: (d) => void h.update(d),
      digest: () => {
        const d = h.digest()
        return new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      },
    }
  }
  const h = nobleSha256.create()
  return { update: (d) => void h.update(d), digest: () => h.digest() }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
