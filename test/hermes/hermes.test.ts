import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/index.js'
import { prerequisite } from '../support/prerequisites.js'
import { tempDir } from '../support/temp.js'
import { buildForHermes, HERMES } from './build.js'
import { rustFixtures } from './fixtures.js'
import { KINDS, kindName, open, pack, useFixtures } from './scenarios.js'

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')
const hasHermes = prerequisite(
  'Hermes (hermes-engine-cli)',
  existsSync(HERMES),
  'npm ci installs the hermes-engine-cli devDependency',
)

/** The core built as a React Native app builds it, run on the real Hermes VM; Node checks every result. */
describe.runIf(hasHermes)('the core on Hermes (hermes-engine-cli)', () => {
  it('packs and opens every envelope kind, moves 200 KB reliably and 100 KB by fountain, and picks up from a mediator', async () => {
    const fixtures = rustFixtures()
    useFixtures(fixtures)
    const fromNode: Record<string, string> = {}
    const expected: Record<string, string> = {}
    for (const k of KINDS) {
      fromNode[kindName(k)] = await pack(k)
      expected[kindName(k)] = sha(JSON.stringify(await open(fromNode[kindName(k)] as string)))
    }
    const script = await buildForHermes(new URL('./app.ts', import.meta.url).pathname, { fixtures, fromOtherEngine: fromNode })
    const file = join(tempDir('carrier-hermes-'), 'app.js')
    writeFileSync(file, script)
    const { stdout } = await promisify(execFile)(HERMES, ['-Xmicrotask-queue', '-w', file], { maxBuffer: 64 * 1024 * 1024 })
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.find((l) => l.case === 'error')).toBeUndefined()
    expect(lines.at(-1)).toEqual({ case: 'done' })

    const envelopes = lines.filter((l) => l.case === 'envelope')
    expect(envelopes.map((l) => l.name)).toEqual(KINDS.map(kindName))
    for (const l of envelopes) {
      const name = l.name as string
      // Hermes opened what it packed and what Node packed into what Node opens from both
      expect(l.own, name).toBe(expected[name])
      expect(l.other, name).toBe(expected[name])
      expect(sha(JSON.stringify(await open(l.packed as string))), name).toBe(expected[name])
    }
    const meta = (await open(envelopes.find((l) => l.name === 'forward-P-256')?.packed as string)).meta
    expect(meta).toMatchObject({
      encrypted: true,
      authenticated: true,
      hops: 1,
      encryptedTo: ['did:example:bob#key-p256-1'],
    })

    expect(lines.find((l) => l.case === 'reliable')).toEqual({
      case: 'reliable',
      bytes: 200 * 1024,
      sha256: sha(seededBytes(200 * 1024, 31)),
      confirmed: true,
    })
    expect(lines.find((l) => l.case === 'fountain')).toEqual({
      case: 'fountain',
      bytes: 100 * 1024,
      sha256: sha(seededBytes(100 * 1024, 32)),
      stopped: 'ERR_ABORTED',
    })
    expect(lines.find((l) => l.case === 'mediation')).toEqual({
      case: 'mediation',
      forwardedThrough: 1,
      picked: 1,
      content: 'picked up on Hermes',
      fromAlice: true,
      authenticated: true,
    })
  }, 300_000)
})
