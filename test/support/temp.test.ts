import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from './package.js'
import { removeTempDirs, tempDir } from './temp.js'

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? testSources(p) : e.name.endsWith('.ts') ? [p] : []
  })
}

describe('temp dirs of the tests', () => {
  it('tempDir folders are gone once removeTempDirs ran (the afterAll of every test file)', () => {
    const a = tempDir('carrier-temp-check-')
    writeFileSync(join(a, 'big.bin'), new Uint8Array(1024))
    const b = tempDir('carrier-temp-check-')
    removeTempDirs()
    expect([existsSync(a), existsSync(b)]).toEqual([false, false])
  })

  it('no test writes into the temp dir except through tempDir, or removes what it made itself', () => {
    const offenders = ['test', 'hardware-tests']
      .flatMap((d) => testSources(join(REPO, d)))
      .filter((f) => !f.endsWith('test/support/temp.ts') && !f.endsWith('test/support/temp.test.ts'))
      .filter((f) => {
        const s = readFileSync(f, 'utf8')
        const makes = /\bmkdtemp(Sync)?\(/.test(s) || /join\(tmpdir\(\), `/.test(s)
        return makes && !/\brm(Sync)?\(/.test(s)
      })
      .map((f) => relative(REPO, f))
    expect(offenders).toEqual([])
  })
})
