import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { stopChild } from '../support/child.js'
import { tempDir } from '../support/temp.js'

const CLI = ['--import', 'tsx', 'cli/entry.ts']
const carrier = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 })

/** A long-running carrier command and its first JSON line. */
async function daemon(...args: string[]): Promise<{ proc: ChildProcess; first: Record<string, unknown>; lines: string[] }> {
  const proc = spawn(process.execPath, [...CLI, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stderr = ''
  proc.stderr?.on('data', (d) => {
    stderr += d
  })
  const rl = createInterface({ input: proc.stdout as NodeJS.ReadableStream })
  const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
    rl.on('line', (l) => {
      lines.push(l)
      const event = JSON.parse(l) as Record<string, unknown>
      if (event.event !== 'ready') resolve(event) // listen says it is ready first
    })
    proc.once('exit', (code) => reject(new Error(`carrier ${args[0]} exited ${code}: ${stderr}`)))
  })
  return { proc, first, lines }
}

describe('carrier mediator / listen --mediator', () => {
  it('a mediator on HTTP+WS prints its DID and invitation; a recipient listening through it gets a message sent while it was away', async () => {
    const dir = tempDir('carrier-mediator-')
    const med = await daemon('mediator', '--http', '127.0.0.1:0', '--ws', '--store', 'memory:')
    let listener: ChildProcess | undefined
    try {
      const did = med.first.did as string
      expect(did).toMatch(/^did:peer:2\./)
      expect(med.first.invitation).toMatch(/^https:\/\/didcomm\.org\/\?_oob=/)
      expect((med.first.endpoints as string[]).map((e) => e.split(':')[0])).toEqual(['http', 'ws'])
      const bob = join(dir, 'bob.json')
      const alice = join(dir, 'alice.json')
      expect(carrier('keys', 'new', '--out', bob, '--mediator', did).status).toBe(0)
      expect(carrier('keys', 'new', '--out', alice).status).toBe(0)
      const bobDid = JSON.parse(readFileSync(bob, 'utf8')).did as string
      // bob registers once, then goes away
      const first = carrier('--json', 'listen', '--identity', bob, '--mediator', did, '--out', join(dir, 'in0'), '--count', '0')
      expect(first.status).toBe(0)
      const sent = carrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', 'while you were away')
      expect(sent.stderr).toBe('')
      expect(JSON.parse(sent.stdout)).toMatchObject({ command: 'send', uri: (med.first.endpoints as string[])[0] })
      // bob comes back and picks it up
      const back = await daemon('listen', '--identity', bob, '--mediator', did, '--out', join(dir, 'in'), '--count', '1')
      listener = back.proc
      expect(back.first).toMatchObject({ command: 'listen', type: 'https://didcomm.org/basicmessage/2.0/message' })
      const file = readdirSync(join(dir, 'in')).find((f) => f.endsWith('.json')) as string
      expect(JSON.parse(readFileSync(join(dir, 'in', file), 'utf8')).body.content).toBe('while you were away')
    } finally {
      if (listener) await stopChild(listener)
      await stopChild(med.proc)
    }
  })

  it('a store it cannot open is a one-line error', () => {
    const r = carrier('mediator', '--http', '127.0.0.1:0', '--store', 'postgres://carrier@127.0.0.1:1/nothing')
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^carrier: .*(ECONNREFUSED|connect)/)
  })
})
