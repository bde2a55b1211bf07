import { readFileSync } from 'node:fs'
import type { DIDDocument } from '../../src/did/document.js'
import type { Jwk } from '../../src/didcomm/keys.js'
import type { Fixtures } from './scenarios.js'

const load = (f: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/didcomm-vectors/didcomm-rust/${f}`, import.meta.url), 'utf8'))

/** didcomm-rust's DIDs and keys, as the scenarios take them (the last document of a DID wins). */
export function rustFixtures(): Fixtures {
  const docs = (load('did_docs.json') as (DIDDocument & { __name?: string })[]).map(({ __name: _n, ...d }) => d as DIDDocument)
  const byDid = load('secrets.json') as Record<string, { id: string; privateKeyJwk: Jwk }[]>
  return {
    docs,
    secrets: Object.values(byDid)
      .flat()
      .map((s) => ({ ...s.privateKeyJwk, kid: s.id })),
  }
}
