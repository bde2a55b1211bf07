import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/mosquitto.js'
import { jsonLines, type RunningCarrier, runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

/**
 * An agent reachable directly over HTTP and WebSocket: `carrier keys new --service http(s)://… |
 * ws(s)://…` and `carrier listen --http [host]:port [--ws]`, with `carrier send` finding the
 * endpoint in the DID document alone (real processes, real sockets).
 */
describe('carrier listen --http / --ws', () => {
  const running: RunningCarrier[] = []
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.kill('SIGKILL')
      await r.exited
    }
  })

  for (const scheme of ['http', 'ws'] as const)
    it(`receives what carrier send sends to a DID whose service is a ${scheme}:// URL`, { timeout: 90_000 }, async () => {
      const dir = tempDir(`carrier-listen-${scheme}-`)
      const port = await freePort()
      const bob = join(dir, 'bob.json')
      const alice = join(dir, 'alice.json')
      const made = await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', `${scheme}://127.0.0.1:${port}/`)
      expect(made.code, made.stderr).toBe(0)
      expect((await runCarrier('keys', 'new', '--out', alice)).code).toBe(0)
      const bobDid = (await runCarrier('keys', 'show', bob)).stdout.trim()
      expect(bobDid).toBe(jsonLines(made.stdout)[0]?.did)

      const inbox = join(dir, 'inbox')
      const listen = startCarrier(
        '--json',
        'listen',
        '--identity',
        bob,
        '--out',
        inbox,
        '--count',
        '1',
        '--http',
        `127.0.0.1:${port}`,
        ...(scheme === 'ws' ? ['--ws'] : []),
      )
      running.push(listen)
      await listen.line(/"event":"ready"/)

      const sent = await runCarrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', `over ${scheme}`)
      expect(sent.code, sent.stderr).toBe(0)
      expect(jsonLines(sent.stdout)[0]).toMatchObject({ event: 'message', uri: `${scheme}://127.0.0.1:${port}/` })

      const got = JSON.parse(await listen.line(/"event":"message"/))
      expect(got).toMatchObject({ type: 'https://didcomm.org/basicmessage/2.0/message', authenticated: true })
      expect(await listen.exited).toBe(0)
      // the message's file; beside it, the listener's hidden .carrier-seen-ids
      const [file] = readdirSync(inbox).filter((f) => !f.startsWith('.'))
      const stored = JSON.parse(readFileSync(join(inbox, file as string), 'utf8'))
      expect(stored.body).toEqual({ content: `over ${scheme}` })
    })

  it('an identity whose endpoint is http:// is refused by listen without --http, saying what to add', async () => {
    const dir = tempDir('carrier-listen-nohttp-')
    const bob = join(dir, 'bob.json')
    expect((await runCarrier('keys', 'new', '--out', bob, '--service', 'https://bob.example/didcomm')).code).toBe(0)
    const r = await runCarrier('listen', '--identity', bob, '--out', join(dir, 'in'), '--count', '1')
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe(
      'carrier: https://bob.example/didcomm is an HTTP/WebSocket endpoint: serve it with --http [host]:port (and --ws)',
    )
    const ws = await runCarrier('listen', '--identity', bob, '--out', join(dir, 'in'), '--ws')
    expect(ws.code).toBe(1)
    expect(ws.stderr.trim()).toBe('carrier: --ws serves WebSocket on the --http port: give --http [host]:port too')
  })
})
