import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installTarball, packTarball, REPO } from '../support/package.js'
import { missingOutput, promisedOutput, type ReadmeBlock, readmeBlocks, shellAssignments } from './blocks.js'

/**
 * Every ```sh and ```ts block of the READMEs runs, in order, as written: README.md and the adapter
 * READMEs in an empty project that installed the packed tarball (without optional dependencies),
 * the examples' READMEs in this clone (they run the repository's examples/). A block that
 * cannot run here says why on the line before its fence (`<!-- readme-test: skip REASON -->`), and
 * is listed below by name; `<!-- readme-test: background -->` starts a server that runs until the
 * file's last block is done.
 */
const list = (dir: string) =>
  readdirSync(join(REPO, dir))
    .sort()
    .map((d) => `${dir}/${d}/README.md`)
    .filter((f) => {
      try {
        return readdirSync(join(REPO, f, '..')).includes('README.md')
      } catch {
        return false
      }
    })
const FILES = ['README.md', ...list('adapters'), ...list('examples')]
const BLOCK_TIMEOUT = 180_000

const tmp = mkdtempSync(join(tmpdir(), 'carrier-readme-'))
let app = ''
let tarball = ''
const skipped: string[] = []

beforeAll(() => {
  tarball = packTarball(tmp)
  app = installTarball(tarball, join(tmp, 'app'))
}, 10 * 60_000)
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

interface Ran {
  code: number | null
  out: string
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => process.kill(-(p.pid as number), 'SIGKILL'), timeoutMs)
    p.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

/** A ts block saved as the API tour tells users to (`tour.mts`: ESM whatever package.json says), run with tsx. */
async function runTs(block: ReadmeBlock, project: string, cwd: string): Promise<Ran> {
  const entry = join(project, `block-${block.name.replace(/[^\w]+/g, '-')}.mts`)
  writeFileSync(entry, `${block.code}\n`)
  return run(join(REPO, 'node_modules/.bin/tsx'), [entry], cwd, BLOCK_TIMEOUT)
}

function script(block: ReadmeBlock, before: ReadmeBlock[]): string {
  return ['set -eo pipefail', ...shellAssignments(before), block.code].join('\n')
}

interface Server {
  name: string
  child: ChildProcess
  out: () => string
  exited: Promise<number | null>
  stopped: boolean
}

/** Starts a background block; resolves once it printed its first line (a server saying it listens). */
function startServer(block: ReadmeBlock, before: ReadmeBlock[], cwd: string): Promise<Server> {
  const child = spawn('bash', ['-c', script(block, before)], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, NO_COLOR: '1' },
  })
  let out = ''
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  const server: Server = { name: block.name, child, out: () => out, exited, stopped: false }
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d
      if (out.includes('\n')) resolve(server)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => reject(new Error(`${block.name} exited ${code} before it printed anything: ${out}`)))
    setTimeout(() => {
      // a server too slow to start would otherwise outlive the test and hold its port
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL')
      reject(new Error(`${block.name} printed nothing in 60 s`))
    }, 60_000).unref()
  })
}

async function stopServer(s: Server): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode
  s.stopped = true
  process.kill(-(s.child.pid as number), 'SIGTERM')
  const timer = setTimeout(() => process.kill(-(s.child.pid as number), 'SIGKILL'), 10_000)
  await s.exited
  clearTimeout(timer)
  return null
}

for (const file of FILES) {
  const blocks = readmeBlocks(join(REPO, file), file)
  const runnable = blocks.filter((b) => !b.skip)
  for (const b of blocks) if (b.skip) skipped.push(`${b.name} (${b.lang}): ${b.skip}`)
  if (runnable.length === 0) continue

  describe(file, () => {
    const servers: Server[] = []
    let cwd = ''
    beforeAll(() => {
      const slug = file.replace(/[^\w]+/g, '-')
      if (file.startsWith('examples/'))
        cwd = REPO // they run the repository's examples/, from a clone
      else {
        cwd = join(app, `work-${slug}`)
        mkdirSync(cwd)
      }
    })
    afterAll(async () => {
      for (const s of servers.reverse()) await stopServer(s)
    })

    blocks.forEach((block, i) => {
      if (block.skip) return
      const before = blocks.slice(0, i)
      const title = `${block.name} (${block.lang}${block.background ? ', background' : ''}) runs as written`
      it(title, { timeout: BLOCK_TIMEOUT + 15_000 }, async () => {
        if (block.background) {
          servers.push(await startServer(block, before, cwd))
          return
        }
        let r: Ran
        if (block.lang === 'sh') r = await run('bash', ['-c', script(block, before)], cwd, BLOCK_TIMEOUT)
        else r = await runTs(block, app, cwd)
        expect(r.code, `${block.name} failed:\n${block.code}\n--- output ---\n${r.out}`).toBe(0)
        if (block.lang === 'ts')
          expect(missingOutput(promisedOutput(block.code), r.out), `${block.name} printed:\n${r.out}`).toEqual([])
      })
    })

    it(`${file}: its background servers ran until stopped or ended cleanly`, async () => {
      for (const s of servers) {
        const code = await stopServer(s)
        expect(s.stopped || code === 0, `${s.name} exited ${code}:\n${s.out()}`).toBe(true)
      }
    })
  })
}

describe('README.md in a CommonJS project (npm init -y, as npm 11 writes it)', () => {
  let cjs = ''
  beforeAll(() => {
    cjs = installTarball(tarball, join(tmp, 'cjs'), { npmInit: true })
  }, 10 * 60_000)

  it('npm init -y made a CommonJS project', () => {
    const pkg = JSON.parse(readFileSync(join(cjs, 'package.json'), 'utf8')) as { type?: string }
    expect(pkg.type ?? 'commonjs').toBe('commonjs')
  })

  for (const block of readmeBlocks(join(REPO, 'README.md'), 'README.md').filter((b) => b.lang === 'ts' && !b.skip))
    it(`${block.name} (ts) runs as the API tour says, and prints what its comments promise`, {
      timeout: BLOCK_TIMEOUT + 15_000,
    }, async () => {
      const r = await runTs(block, cjs, cjs)
      expect(r.code, `${block.name} failed:\n${block.code}\n--- output ---\n${r.out}`).toBe(0)
      expect(missingOutput(promisedOutput(block.code), r.out), `${block.name} printed:\n${r.out}`).toEqual([])
    })
})

it('names every README block that cannot run here, with its reason', () => {
  for (const s of skipped) expect(s).toMatch(/: \S/)
  console.log(`README blocks not run here (${skipped.length}):\n  ${skipped.join('\n  ')}`)
})
