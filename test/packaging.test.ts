import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import semver from 'semver'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadOptional } from '../adapters/optional.js'
import { installTarball, packTarball, REPO } from './support/package.js'
import { tempDir } from './support/temp.js'

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  license: string
  engines: { node: string }
  dependencies: Record<string, string>
  optionalDependencies: Record<string, string>
}

/**
 * Dependencies whose declared engines leave out part of ours, each with why we still claim it.
 * @zxing/library 0.22+ declares node >= 24 (npm prints EBADENGINE on 20–23) but uses nothing newer
 * than Node 20: the QR suites decode with it (decoder 'zxing-js') on the Node 20 CI runs.
 */
const ENGINE_EXCEPTIONS: Record<string, string> = {
  '@zxing/library': 'runs on Node 20: test/qr decodes with it (zxing-js decoder)',
  'better-sqlite3':
    'optional, for the SQLite message store only; it names Node majors one by one (20, 22–26): majors not released yet are not in its list',
}

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? files(p, base) : [p.slice(base.length + 1)]
  })
}

describe('the published package', () => {
  const tmp = tempDir('carrier-package-')
  let app = ''
  let installed = ''
  let shipped: string[] = []

  beforeAll(() => {
    app = installTarball(packTarball(tmp), join(tmp, 'app'))
    installed = join(app, 'node_modules/didcomm-carrier')
    shipped = files(installed)
  }, 5 * 60_000)

  it('ships a LICENSE with the full text of the license package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0')
    const text = readFileSync(join(installed, 'LICENSE'), 'utf8')
    expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/)
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION')
    expect(text).toContain('END OF TERMS AND CONDITIONS')
  })

  it('ships every file the README links to', () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => m[1] as string)
      .filter((l) => !/^[a-z]+:/i.test(l))
    expect(links.length).toBeGreaterThan(5)
    expect(links.filter((l) => !existsSync(join(installed, l)))).toEqual([])
  })

  it('ships source maps only with their sources inside', () => {
    const maps = shipped.filter((f) => f.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    const broken = maps.filter((f) => {
      const m = JSON.parse(readFileSync(join(installed, f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] }
      return m.sourcesContent?.length !== m.sources.length || m.sourcesContent.some((c) => typeof c !== 'string')
    })
    expect(broken).toEqual([])
  })

  it('installs with --omit=optional without compiling anything: no native addon, no optional package', () => {
    const all = files(join(app, 'node_modules'))
    expect(all.filter((f) => f.endsWith('.node') || f.endsWith('binding.gyp'))).toEqual([])
    const present = Object.keys(pkg.optionalDependencies).filter((d) => existsSync(join(app, 'node_modules', d)))
    expect(present).toEqual([])
    for (const native of ['@pokusew/pcsclite', 'usb', '@serialport/bindings-cpp', '@stoprocent/bluetooth-hci-socket'])
      expect(existsSync(join(app, 'node_modules', native)), native).toBe(false)
  })

  it('the BLE and NFC adapters say which package to install when it is missing', () => {
    const script = join(app, 'missing.mjs')
    writeFileSync(
      script,
      `import { PcscReader } from 'didcomm-carrier/nfc'
import { BleCentralLink } from 'didcomm-carrier/ble'
for (const attempt of [() => PcscReader.open({ timeoutMs: 1000 }), () => BleCentralLink.connect({ token: 'x' })]) {
  try { await attempt(); console.log('opened?') } catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })) }
}
`,
    )
    const out = execFileSync(process.execPath, [script], { cwd: app, encoding: 'utf8', timeout: 60_000 })
    const [nfc, ble] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { code: string; message: string })
    expect(nfc).toEqual({ code: 'ERR_MISSING_DEPENDENCY', message: expect.stringContaining('npm install nfc-pcsc') })
    expect(ble).toEqual({ code: 'ERR_MISSING_DEPENDENCY', message: expect.stringContaining('npm install @stoprocent/noble') })
  })
})

describe('optional native dependencies', () => {
  it('installed but with its native build missing: says what to install, not a stack trace', async () => {
    const bindings = Object.assign(new Error('Could not locate the bindings file. Tried: → build/Release/pcsclite.node'), {})
    await expect(
      loadOptional('nfc-pcsc', 'the NFC reader adapter', async () => {
        throw bindings
      }),
    ).rejects.toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', message: expect.stringContaining('libpcsclite-dev') })
    const dlopen = Object.assign(new Error('libpcsclite.so.1: cannot open shared object file'), { code: 'ERR_DLOPEN_FAILED' })
    await expect(loadOptional('nfc-pcsc', 'x', async () => Promise.reject(dlopen))).rejects.toMatchObject({
      code: 'ERR_MISSING_DEPENDENCY',
    })
    const other = new TypeError('a bug in the package')
    await expect(loadOptional('nfc-pcsc', 'x', async () => Promise.reject(other))).rejects.toBe(other)
  })
})

describe('engines', () => {
  const ours = pkg.engines.node
  it('this Node is in the range package.json states', () => {
    expect(semver.satisfies(process.version, ours)).toBe(true)
  })

  for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies)]) {
    it(`${dep}: its engines cover ours (${ours}) or the exception says why`, () => {
      const file = join(REPO, 'node_modules', dep, 'package.json')
      expect(existsSync(file), `${dep} is installed`).toBe(true)
      const theirs = (JSON.parse(readFileSync(file, 'utf8')) as { engines?: { node?: string } }).engines?.node
      if (theirs === undefined) return
      const covered = semver.subset(ours, theirs)
      if (ENGINE_EXCEPTIONS[dep]) expect(covered, `${dep} now covers ${ours}: drop its exception`).toBe(false)
      else expect(covered, `${dep} supports node ${theirs}, package.json claims ${ours}`).toBe(true)
    })
  }
})

describe('package.json and the lockfile', () => {
  const full = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>
  const root = (
    JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> }
  ).packages[''] as Record<string, unknown>

  // npm install rewrites the lockfile's root entry whenever one of these differs from package.json
  // (a fresh clone's `npm install` then leaves package-lock.json modified)
  for (const field of [
    'name',
    'version',
    'license',
    'engines',
    'bin',
    'dependencies',
    'devDependencies',
    'optionalDependencies',
    'peerDependencies',
    'peerDependenciesMeta',
  ])
    it(`the lockfile's root ${field} is package.json's`, () => {
      expect(root[field]).toEqual(full[field])
    })

  it('names its repository, homepage and issue tracker (a github.com/<owner>/didcomm-carrier repository)', () => {
    const repo = full.repository as { type: string; url: string }
    expect(repo.type).toBe('git')
    expect(repo.url).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/didcomm-carrier\.git$/)
    const base = repo.url.replace(/^git\+/, '').replace(/\.git$/, '')
    expect(full.homepage).toBe(`${base}#readme`)
    expect((full.bugs as { url: string }).url).toBe(`${base}/issues`)
  })
})
