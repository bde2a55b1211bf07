import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { CaseResult } from './record.js'
import { RESULTS_DIR } from './record.js'
import { renderInterop } from './render-table.js'

/**
 * docs/INTEROP.md is what the interop suites recorded (test/interop/results/*.json, each checked
 * by its own suite against what it proved), rendered. UPDATE_INTEROP=1 rewrites it.
 */
const DOC = new URL('../../docs/INTEROP.md', import.meta.url)

describe('docs/INTEROP.md', () => {
  it('is the table the recorded interop results produce', () => {
    const results = readdirSync(RESULTS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .flatMap((f) => JSON.parse(readFileSync(new URL(f, RESULTS_DIR), 'utf8')) as CaseResult[])
    expect(results.length).toBeGreaterThan(0)
    const produced = renderInterop(results)
    if (process.env.UPDATE_INTEROP === '1') writeFileSync(DOC, produced)
    expect(produced, 'run UPDATE_INTEROP=1 npx vitest run test/interop, then commit').toBe(readFileSync(DOC, 'utf8'))
  })

  it('refuses results for a peer it has no column for', () => {
    expect(() =>
      renderInterop([{ peer: 'nobody', direction: 'we-pack', packing: 'anoncrypt', algs: 'X25519', outcome: 'works' }]),
    ).toThrow('results for peers the table does not know: nobody')
  })
})
