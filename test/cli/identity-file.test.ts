import { spawnSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../support/temp.js'

/** The real CLI under a shell with the given umask (a user's 000 must not make keys world-readable). */
function carrier(umask: string, ...args: string[]) {
  const cmd = `umask ${umask} && exec "${process.execPath}" --import tsx cli/entry.ts "$@"`
  const r = spawnSync('bash', ['-c', cmd, 'carrier', ...args], { encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('carrier keys new: identity files', () => {
  it('are written with mode 0600, whatever the umask', () => {
    const dir = tempDir('carrier-keys-')
    for (const umask of ['000', '022']) {
      const file = join(dir, `id-${umask}.json`)
      expect(carrier(umask, 'keys', 'new', '--out', file).code).toBe(0)
      expect(statSync(file).mode & 0o777).toBe(0o600)
    }
  })

  it('an existing file is not overwritten without --force; with it, a new identity replaces it, still 0600', () => {
    const dir = tempDir('carrier-keys-')
    const file = join(dir, 'alice.json')
    expect(carrier('022', 'keys', 'new', '--out', file).code).toBe(0)
    const first = readFileSync(file, 'utf8')
    const again = carrier('022', 'keys', 'new', '--out', file)
    expect(again.code).toBe(1)
    expect(again.stderr.trim()).toMatch(/^carrier: .*alice\.json exists: it may hold an identity's private keys; pass --force/)
    expect(readFileSync(file, 'utf8')).toBe(first)

    const other = join(dir, 'notes.txt') // any file: not only identities are protected
    writeFileSync(other, 'keep me', { mode: 0o644 })
    expect(carrier('022', 'keys', 'new', '--out', other).code).toBe(1)
    expect(readFileSync(other, 'utf8')).toBe('keep me')

    const forced = carrier('022', 'keys', 'new', '--out', file, '--force')
    expect(forced.code).toBe(0)
    const second = JSON.parse(readFileSync(file, 'utf8')) as { did: string }
    expect(second.did).not.toBe((JSON.parse(first) as { did: string }).did)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })
})
