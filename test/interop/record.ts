import { readFileSync, writeFileSync } from 'node:fs'
import { expect, it } from 'vitest'

/**
 * Each interop suite records what it proved, case by case, into test/interop/results/<peer>.json;
 * its last test fails if the committed file says otherwise (UPDATE_INTEROP=1 rewrites it).
 * docs/INTEROP.md is rendered from those files (interop-table.test.ts), so the table says only
 * what a test showed.
 */
export type Direction = 'they-pack' | 'we-pack'

export interface CaseResult {
  peer: string
  direction: Direction
  /** anoncrypt, authcrypt, signed, signed + authcrypt… */
  packing: string
  /** Curve / algorithms, e.g. 'X25519, A256CBC-HS512' or 'EdDSA'. */
  algs: string
  /** 'works', 'compat' (works with an explicit compatibility option) or 'refused'. */
  outcome: 'works' | 'compat' | 'refused'
  /** Why (for compat and refused): the option used or the precise refusal. */
  note?: string
}

export const RESULTS_DIR = new URL('./results/', import.meta.url)

const key = (c: CaseResult) => `${c.packing}|${c.algs}|${c.direction}`

export function interopRecorder(peer: string) {
  const results = new Map<string, CaseResult>()
  return {
    record(c: Omit<CaseResult, 'peer'>): void {
      const full = { peer, ...c }
      const prev = results.get(key(full))
      // one cell per case: the same case proved twice must agree
      if (prev && JSON.stringify(prev) !== JSON.stringify(full)) throw new Error(`conflicting results for ${key(full)}`)
      results.set(key(full), full)
    },
    /** The last test of the suite: what this run proved is what the committed results say. */
    checkCommitted(): void {
      it(`the recorded ${peer} interop results are the committed ones (test/interop/results)`, () => {
        const file = new URL(`${peer}.json`, RESULTS_DIR)
        const produced = `${JSON.stringify(
          [...results.values()].sort((a, b) => key(a).localeCompare(key(b))),
          null,
          2,
        )}\n`
        if (process.env.UPDATE_INTEROP === '1') writeFileSync(file, produced)
        let committed = ''
        try {
          committed = readFileSync(file, 'utf8')
        } catch {
          // missing: the comparison below fails with the produced content shown
        }
        expect(produced, 'run with UPDATE_INTEROP=1 to rewrite, then commit').toBe(committed)
      })
    },
  }
}
