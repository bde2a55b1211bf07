import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from './package.js'

/**
 * The CLI compiled from the current sources into a private folder under node_modules (not dist/,
 * which other suites read while this runs); returns that folder. For tests and benches that time
 * or measure the CLI as users run it (no tsx in the process).
 */
export function compileCli(name: string): string {
  const out = join('node_modules', `.carrier-${name}-dist`)
  execFileSync(process.execPath, [
    join(REPO, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(REPO, 'tsconfig.build.json'),
    '--outDir',
    join(REPO, out),
    '--incremental',
    'false',
  ])
  return out
}
