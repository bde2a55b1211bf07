/**
 * npx tsx examples/qr-handoff/run.ts [FILE] — a file from a "screen" to a "camera" with no network:
 * `carrier qr encode` renders it as fountain-coded QR codes (PNG frames), a third of them are lost
 * (the camera looked away), `carrier qr decode` rebuilds the file from the rest; SHA-256 compared.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../../cli/entry.ts', import.meta.url))
const carrier = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, '--json', ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`carrier ${args[0]} ${args[1]} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop() as string)
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

const dir = mkdtempSync(join(tmpdir(), 'qr-handoff-'))
let file = process.argv[2]
if (!file) {
  file = join(dir, 'credential.json')
  writeFileSync(file, JSON.stringify({ type: 'VerifiableCredential', proof: 'p'.repeat(40_000) }))
}
const enc = carrier('qr', 'encode', file, '--out', join(dir, 'frames'), '--scale', '3')
console.log(`screen: ${enc.frames} QR v${enc.version}-${enc.ecc} codes (a camera needs about ${enc.symbolsNeeded})`)
const frames = readdirSync(join(dir, 'frames')).sort()
for (const [i, f] of frames.entries()) if (i % 3 === 1) rmSync(join(dir, 'frames', f))
console.log(`camera: ${readdirSync(join(dir, 'frames')).length} of ${frames.length} codes seen`)
const dec = carrier('qr', 'decode', join(dir, 'frames'), '--out', join(dir, 'received'))
const same = sha(readFileSync(file)) === sha(readFileSync(join(dir, 'received')))
console.log(`camera: ${dec.bytes} bytes decoded, SHA-256 ${same ? 'matches' : 'DIFFERS'}`)
rmSync(dir, { recursive: true, force: true })
if (!same) process.exitCode = 1
