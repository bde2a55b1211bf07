import { readFileSync } from 'node:fs'
import { chainResolvers, type DIDDocument, staticResolver, staticSecrets } from '../../src/did/document.js'
import type { Jwk } from '../../src/didcomm/keys.js'

const dir = new URL('../fixtures/didcomm-vectors/', import.meta.url)
export const load = (f: string) => JSON.parse(readFileSync(new URL(f, dir), 'utf8'))

/** didcomm-rust's DID documents and secrets (alice, bob, charlie, mediators), plus the spec appendix's. */
export function fixtures() {
  const docs = (load('didcomm-rust/did_docs.json') as DIDDocument[]).map(({ __name: _n, ...d }) => d as DIDDocument)
  const specDocs = load('spec-appendix-v2.1/diddocs.json') as DIDDocument[]
  const rustSecrets = Object.values(load('didcomm-rust/secrets.json') as Record<string, { id: string; privateKeyJwk: Jwk }[]>)
    .flat()
    .map((s) => ({ ...s.privateKeyJwk, kid: s.id }))
  const specSecrets = Object.values(load('spec-appendix-v2.1/secrets.json') as Record<string, Record<string, string>[]>)
    .flat()
    // appendix A.2 spells one member "kid " (a known erratum)
    .map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k.trim(), v])) as unknown as Jwk & { kid: string })
  return {
    resolver: chainResolvers(staticResolver(docs), staticResolver(specDocs)),
    secrets: staticSecrets([...rustSecrets, ...specSecrets]),
    docs,
  }
}
