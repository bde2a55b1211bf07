import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/prng.js'
import { freePort } from '../support/mosquitto.js'
import { jsonLines, type RunningCarrier, runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

/**
 * `carrier send` reports progress for a long transfer as send-file does (a bar on a terminal;
 * with --json, `progress` event lines) and nothing for a short one. Real processes over the
 * embedded broker (`carrier broker`).
 */
describe('carrier send: progress of a long transfer', () => {
  const dir = tempDir('carrier-send-progress-')
  const bob = join(dir, 'bob.json')
  const alice = join(dir, 'alice.json')
  let broker: RunningCarrier
  let listen: RunningCarrier
  let bobDid = ''

  beforeAll(async () => {
    const port = await freePort()
    broker = startCarrier('broker', '--port', String(port))
    await broker.line(/listening/)
    expect((await runCarrier('keys', 'new', '--out', bob, '--service', `mqtt://127.0.0.1:${port}`)).code).toBe(0)
    expect((await runCarrier('keys', 'new', '--out', alice)).code).toBe(0)
    bobDid = (await runCarrier('keys', 'show', bob)).stdout.trim()
    listen = startCarrier('--json', 'listen', '--identity', bob, '--out', join(dir, 'in'), '--count', '2')
    await listen.line(/"event":"ready"/)
  }, 120_000)

  afterAll(async () => {
    for (const p of [listen, broker]) {
      p?.kill('SIGKILL')
      await p?.exited
    }
  })

  it('a 120 KB message (random text, ~90 KB on the wire): progress events up to the whole, then the message', {
    timeout: 90_000,
  }, async () => {
    const text = Buffer.from(seededBytes(90_000, 31)).toString('base64') // 120,000 characters, under one argv string's limit
    const r = await runCarrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', text)
    expect(r.code, r.stderr).toBe(0)
    const lines = jsonLines<{ event: string; bytes?: number; total?: number; id?: string; command?: string }>(r.stdout)
    const progress = lines.filter((l) => l.event === 'progress')
    const message = lines.at(-1)
    expect(message?.event).toBe('message')
    expect(progress.length).toBeGreaterThan(0)
    for (const p of progress) expect(p).toMatchObject({ command: 'send', id: message?.id })
    expect(progress.at(-1)?.bytes).toBe(progress.at(-1)?.total)
    expect(progress.at(-1)?.total).toBeGreaterThanOrEqual(64 * 1024)
  })

  it('a short message: no progress, one line', { timeout: 60_000 }, async () => {
    const r = await runCarrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', 'hi')
    expect(r.code, r.stderr).toBe(0)
    expect(jsonLines(r.stdout).map((l) => l.event)).toEqual(['message'])
  })
})
