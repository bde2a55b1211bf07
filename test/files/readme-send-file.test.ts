import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReadmeBlock, readmeBlocks, shellAssignments } from '../readme/blocks.js'
import { compileCli } from '../support/compiled-cli.js'
import { freePort } from '../support/mosquitto.js'
import { REPO } from '../support/package.js'
import { tempDir } from '../support/temp.js'

/**
 * Issue 29: "`listen --count N` never strands a sender". README.md's own blocks — the broker, a
 * `listen --count 2`, then `send` and `send-file` — run as written 20 times in a row, each time a
 * fresh listener; every run must exit 0 on both sides with the file in the inbox. The commands are
 * the README's, with `npx carrier` resolving to this clone's compiled CLI (a local bin, as an
 * installed package gives it) and the broker on a free port instead of 1883 (other tests use it).
 */
const RUNS = 20
/** The compiled CLI's folder (compileCli, in beforeAll). */
let DIST = ''

const find = (blocks: ReadmeBlock[], text: string) => {
  const i = blocks.findIndex((b) => b.code.includes(text))
  if (i < 0) throw new Error(`README.md has no block with ${text}`)
  return i
}

let cwd = ''
let port = 0
const children: ChildProcess[] = []
beforeAll(async () => {
  DIST = compileCli('readme-files')
  cwd = tempDir('carrier-readme-files-')
  mkdirSync(join(cwd, 'node_modules', '.bin'), { recursive: true })
  const bin = join(cwd, 'node_modules', '.bin', 'carrier')
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${resolve(REPO, DIST, 'cli', 'entry.js')}" "$@"\n`)
  chmodSync(bin, 0o755)
  port = await freePort()
}, 10 * 60_000)
afterAll(() => {
  for (const c of children) if (c.exitCode === null) process.kill(-(c.pid as number), 'SIGKILL')
  rmSync(cwd, { recursive: true, force: true })
})

function script(code: string, before: ReadmeBlock[]): string {
  return ['set -eo pipefail', ...shellAssignments(before), code]
    .join('\n')
    .replaceAll('127.0.0.1:1883', `127.0.0.1:${port}`)
    .replaceAll('--port 1883', `--port ${port}`)
}

function start(
  code: string,
  before: ReadmeBlock[],
): { child: ChildProcess; out: () => string; exited: Promise<number | null>; line: Promise<void> } {
  const child = spawn('bash', ['-c', script(code, before)], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  children.push(child)
  let out = ''
  let first: () => void = () => {}
  const line = new Promise<void>((r) => (first = r))
  const take = (d: Buffer) => {
    out += d
    if (out.includes('\n')) first()
  }
  child.stdout?.on('data', take)
  child.stderr?.on('data', take)
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  return { child, out: () => out, exited, line }
}

describe("README.md's send-file block with listen --count", () => {
  it(`passes ${RUNS} runs in a row: the sender hears "complete", both exit 0, the file is in the inbox`, {
    timeout: 20 * 60_000,
  }, async () => {
    const blocks = readmeBlocks(join(REPO, 'README.md'), 'README.md').filter((b) => !b.skip)
    const keys = find(blocks, 'keys new --out bob.json')
    const broker = find(blocks, 'carrier broker --port')
    const listen = find(blocks, 'listen --identity bob.json --out inbox/ --count')
    const send = find(blocks, 'send-file notes.txt')
    expect(keys < broker && broker < listen && listen < send).toBe(true)
    const keysRun = start((blocks[keys] as ReadmeBlock).code, blocks.slice(0, keys))
    expect(await keysRun.exited, keysRun.out()).toBe(0)
    const server = start((blocks[broker] as ReadmeBlock).code, blocks.slice(0, broker))
    await server.line
    try {
      for (let run = 1; run <= RUNS; run++) {
        rmSync(join(cwd, 'inbox'), { recursive: true, force: true })
        const listener = start((blocks[listen] as ReadmeBlock).code, blocks.slice(0, listen))
        await listener.line
        const sender = start((blocks[send] as ReadmeBlock).code, blocks.slice(0, send))
        const sent = await sender.exited
        expect(sent, `run ${run}: the send block failed:\n${sender.out()}`).toBe(0)
        expect(await listener.exited, `run ${run}: the listener:\n${listener.out()}`).toBe(0)
        expect(readFileSync(join(cwd, 'inbox', 'notes.txt'), 'utf8')).toBe('a small file\n')
        expect(readdirSync(join(cwd, 'inbox')).filter((n) => n.endsWith('.partial'))).toEqual([])
      }
    } finally {
      process.kill(-(server.child.pid as number), 'SIGTERM')
      await server.exited
    }
  })
})
