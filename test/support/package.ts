import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) t = Math.max(t, newest(p))
    else if (/\.ts$/.test(e.name) && !e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs)
  }
  return t
}

/**
 * dist/ as `npm run build` (or `npm ci`, through prepare) left it. The tarball is packed from it
 * without building again: a build here would rewrite dist/ under the suites running beside this one.
 */
export function assertDistFresh(): void {
  const built = statSync(join(REPO, 'dist/cli/entry.js')).mtimeMs
  const source = Math.max(...['src', 'adapters', 'cli'].map((d) => newest(join(REPO, d))))
  if (source > built) throw new Error('dist/ is older than the sources: run `npm run build` first')
}

/** `npm pack` of this repository into `dir`; the tarball's path. */
export function packTarball(dir: string): string {
  assertDistFresh()
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  return join(dir, (JSON.parse(out) as { filename: string }[])[0]?.filename as string)
}

/**
 * An empty project in `dir` that installs the tarball as a user would, without the optional
 * (native) dependencies: `npm install didcomm-carrier --omit=optional`. An ES module project, or
 * with `npmInit` the one `npm init -y` makes (CommonJS).
 */
export function installTarball(tarball: string, dir: string, o: { npmInit?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true })
  if (o.npmInit) execFileSync('npm', ['init', '-y'], { cwd: dir, stdio: 'ignore' })
  else writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'readme-user', private: true, type: 'module' })}\n`)
  execFileSync('npm', ['install', tarball, '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  return dir
}
