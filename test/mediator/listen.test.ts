import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { stopChild } from '../support/child.js'
import { freePort } from '../support/mosquitto.js'
import { tempDir } from '../support/temp.js'
import { until } from '../support/until.js'
import { mediatorProcess, runCarrier as run } from './support.js'

/** `carrier --json listen …` running, once it said it is ready; its stdout lines and stderr as they come. */
async function listening(...args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/entry.ts', '--json', 'listen', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { lines: [] as string[], stderr: '' }
  proc.stderr?.on('data', (d) => (out.stderr += d))
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      out.lines.push(l)
      if ((JSON.parse(l) as { event?: string }).event === 'ready') resolve()
    })
    proc.once('exit', (code) => reject(new Error(`carrier listen exited ${code}: ${out.stderr}`)))
  })
  return { proc, out, exited }
}

/**
 * A balancer in front of the mediator that passes HTTP and refuses WebSocket upgrades (as some
 * proxies do): the DID's ws:// endpoint is served by nobody.
 */
async function httpOnlyProxy(target: number): Promise<{ port: number; close: () => void }> {
  const server = createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.writeHead(502).end())
    req.pipe(up)
  })
  server.on('upgrade', (_req, socket) => socket.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

describe('carrier listen --mediator as people run it', () => {
  it('the DID advertises a WebSocket nobody serves: listen falls back to polling and gets the message', async () => {
    const dir = tempDir('carrier-listen-ws-')
    const port = await freePort()
    const proxy = await httpOnlyProxy(port)
    const med = await mediatorProcess(
      '--http',
      `127.0.0.1:${port}`,
      '--ws',
      '--public-url',
      `http://127.0.0.1:${proxy.port}/`,
      '--threads',
      '0',
    )
    let listener: ChildProcess | undefined
    try {
      const bob = join(dir, 'bob.json')
      const alice = join(dir, 'alice.json')
      expect((await run('keys', 'new', '--out', bob, '--mediator', med.did)).code).toBe(0)
      expect((await run('keys', 'new', '--out', alice)).code).toBe(0)
      const l = await listening(
        '--identity',
        bob,
        '--mediator',
        med.did,
        '--out',
        join(dir, 'in'),
        '--count',
        '1',
        '--poll',
        '200',
      )
      listener = l.proc
      // not live: the mediator holds no session for it
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      expect(metrics).toMatch(/^carrier_mediator_live_sessions 0$/m)
      const bobDid = JSON.parse(readFileSync(bob, 'utf8')).did as string
      const sent = await run('send', '--identity', alice, '--to', bobDid, '--text', 'through the poll')
      expect(sent.code).toBe(0)
      expect(await l.exited).toBe(0)
      const file = readdirSync(join(dir, 'in')).find((f) => f.endsWith('.json')) as string
      expect(JSON.parse(readFileSync(join(dir, 'in', file), 'utf8')).body.content).toBe('through the poll')
    } finally {
      if (listener) await stopChild(listener)
      await stopChild(med.proc)
      proxy.close()
    }
  }, 120_000)

  it('one inbox, one listener: a second listen on the identity is refused with the first one’s pid; a dead one’s lock is taken over', async () => {
    const dir = tempDir('carrier-listen-lock-')
    const port = await freePort()
    const med = await mediatorProcess('--http', `127.0.0.1:${port}`, '--ws', '--threads', '0')
    let first: ChildProcess | undefined
    try {
      const bob = join(dir, 'bob.json')
      expect((await run('keys', 'new', '--out', bob, '--mediator', med.did)).code).toBe(0)
      const l = await listening('--identity', bob, '--mediator', med.did, '--out', join(dir, 'in'), '--count', '5')
      first = l.proc
      const second = await run('listen', '--identity', bob, '--mediator', med.did, '--out', join(dir, 'in2'), '--count', '1')
      expect(second.code).toBe(1)
      expect(second.stderr).toMatch(
        new RegExp(`^carrier: ERR_INBOX_LOCKED: another carrier listen \\(pid ${l.proc.pid}\\) is receiving for .*bob\\.json`),
      )
      // killed without a chance to clean up: its lock names a dead pid, and the next listener takes it over
      l.proc.kill('SIGKILL')
      await until(() => l.proc.exitCode !== null || l.proc.signalCode !== null)
      expect(readFileSync(`${bob}.listen.lock`, 'utf8').trim()).toBe(String(l.proc.pid))
      const third = await run('listen', '--identity', bob, '--mediator', med.did, '--out', join(dir, 'in3'), '--count', '0')
      expect(third.stderr).not.toMatch(/ERR_INBOX_LOCKED/)
      expect(third.code).toBe(0)
      expect(() => readFileSync(`${bob}.listen.lock`)).toThrow() // released on exit
    } finally {
      if (first) await stopChild(first)
      await stopChild(med.proc)
    }
  }, 120_000)
})
