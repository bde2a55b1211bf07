import { readFileSync } from 'node:fs'
import { Message as NodeMessage } from 'didcomm-node'
import { chainResolvers, type DIDDocument, staticResolver, staticSecrets } from '../src/did/document.js'
import type { Jwk } from '../src/didcomm/keys.js'
import { type Message, packEncrypted, unpack } from '../src/didcomm/pack.js'
import { emit, median } from './lib.js'

/**
 * pack + unpack throughput against didcomm-node (didcomm-rust as WASM) in the same run, same
 * keys (didcomm-rust's test fixtures), same message, forward off.
 */
const load = (f: string) => JSON.parse(readFileSync(new URL(`../test/fixtures/didcomm-vectors/${f}`, import.meta.url), 'utf8'))

export async function didcommBench(): Promise<void> {
  const docs = (load('didcomm-rust/did_docs.json') as DIDDocument[]).map(({ __name: _n, ...d }) => d as DIDDocument)
  const rustSecrets = Object.values(
    load('didcomm-rust/secrets.json') as Record<string, { id: string; privateKeyJwk: Jwk }[]>,
  ).flat()
  const resolver = chainResolvers(staticResolver(docs))
  const secrets = staticSecrets(rustSecrets.map((s) => ({ ...s.privateKeyJwk, kid: s.id })))
  const nodeResolver = { resolve: async (did: string) => structuredClone(docs.filter((d) => d.id === did).at(-1) ?? null) }
  const nodeSecrets = {
    get_secret: async (id: string) => rustSecrets.find((s) => s.id === id) ?? null,
    find_secrets: async (ids: string[]) => ids.filter((id) => rustSecrets.some((s) => s.id === id)),
  }
  const rows = [
    {
      name: 'anoncrypt-A256GCM',
      to: 'did:example:bob#key-x25519-1',
      enc: 'A256GCM' as const,
      nodeEnc: 'A256gcmEcdhEsA256kw' as const,
    },
    {
      name: 'anoncrypt-A256CBC-HS512',
      to: 'did:example:bob#key-x25519-1',
      enc: 'A256CBC-HS512' as const,
      nodeEnc: 'A256cbcHs512EcdhEsA256kw' as const,
    },
    { name: 'authcrypt-X25519', to: 'did:example:bob#key-x25519-1', from: 'did:example:alice#key-x25519-1' },
    { name: 'authcrypt-P256', to: 'did:example:bob#key-p256-1', from: 'did:example:alice#key-p256-1' },
  ]
  for (const size of [1024, 100 * 1024, 1024 * 1024]) {
    const body = { data: 'x'.repeat(size) }
    const iterations = size >= 1024 * 1024 ? 5 : size >= 100 * 1024 ? 20 : 200
    for (const row of rows) {
      const message: Message = {
        id: '1',
        type: 'https://example.org/bench',
        from: 'did:example:alice',
        to: ['did:example:bob'],
        body,
      }
      const time = async (fn: () => Promise<void>) => {
        await fn() // warm-up
        const ms: number[] = []
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now()
          for (let n = 0; n < iterations; n++) await fn()
          ms.push((performance.now() - t0) / iterations)
        }
        return median(ms)
      }
      const ours = await time(async () => {
        const p = await packEncrypted(message, { to: row.to, from: row.from, enc: row.enc, forward: false, resolver, secrets })
        const u = await unpack(p.packed, { resolver, secrets })
        if ((u.message.body as { data: string }).data.length !== size) throw new Error('bench: wrong body')
      })
      const theirs = await time(async () => {
        const m = new NodeMessage({ ...message, typ: 'application/didcomm-plain+json' } as never)
        const [packed] = await m.pack_encrypted(row.to, row.from ?? null, null, nodeResolver as never, nodeSecrets as never, {
          forward: false,
          ...(row.nodeEnc ? { enc_alg_anon: row.nodeEnc } : {}),
        })
        const [u] = await NodeMessage.unpack(packed, nodeResolver as never, nodeSecrets as never, {})
        if ((u.as_value().body as { data: string }).data.length !== size) throw new Error('bench: wrong body (didcomm-node)')
        m.free()
        u.free()
      })
      const mbps = (ms: number) => size / 1e6 / (ms / 1000)
      emit({
        name: `didcomm.pack+unpack.${row.name}.${size >= 1024 * 1024 ? '1MB' : size >= 100 * 1024 ? '100KB' : '1KB'}`,
        value: mbps(ours),
        unit: 'MB/s of body',
        baseline: { name: 'didcomm-node 0.4 (didcomm-rust, WASM), same run', value: mbps(theirs) },
        params: { iterations, msPerRoundTrip: Math.round(ours * 100) / 100, msDidcommNode: Math.round(theirs * 100) / 100 },
      })
    }
  }
}
