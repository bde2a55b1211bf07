import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'

/** Compiles an LD_PRELOAD shim from test/support/native/NAME.c once (again when the source changes), into .cache/. */
export function buildShim(name: string): string {
  const source = join(import.meta.dirname, 'native', `${name}.c`)
  const out = join(process.cwd(), '.cache', `${basename(name)}.so`)
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out
  mkdirSync(join(process.cwd(), '.cache'), { recursive: true })
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, source, '-ldl'])
  return out
}
