import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { jsonLines, runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

/**
 * `carrier send-file` SIGKILLed mid-file and run again on the same file, to a listener that kept
 * running: the second run sends the same blob (its key kept in `<identity>.sends/` until the
 * receiver confirms), the receiver keeps the chunks it has, and the file arrives byte-exact.
 * Through a real broker, as separate processes.
 */
const SIZE = 48 * 1024 * 1024
let broker: EmbeddedBroker
let dir: string
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
  dir = tempDir('carrier-send-restart-')
})
afterAll(async () => {
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('carrier send-file run again after a SIGKILL', () => {
  it('resumes the same blob: chunks the receiver held are not sent again; the key is gone once confirmed', {
    timeout: 5 * 60_000,
  }, async () => {
    const file = join(dir, 'file.bin')
    const data = seededBytes(SIZE, 31)
    writeFileSync(file, data)
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect((await runCarrier('keys', 'new', '--out', alice, '--service', broker.url)).code).toBe(0)
    const bobDid = JSON.parse((await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', broker.url)).stdout).did
    const out = join(dir, 'inbox')
    const listener = startCarrier('--json', 'listen', '--identity', bob, '--out', out, '--count', '1')
    await listener.line(/"event":"ready"/)

    const send = () => startCarrier('--json', 'send-file', file, '--identity', alice, '--to', bobDid)
    const first = send()
    // a quarter of the file confirmed on the receiver's disk, by the sender's own account
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const acked = jsonLines<{ event: string; bytes?: number }>(first.stdout())
          .filter((e) => e.event === 'progress')
          .at(-1)?.bytes
        if ((acked ?? 0) >= SIZE / 4) {
          clearInterval(timer)
          resolve()
        }
      }, 20)
      void first.exited.then(() => {
        clearInterval(timer)
        reject(new Error(`send-file exited before a quarter was confirmed: ${first.stderr()}`))
      })
    })
    first.kill('SIGKILL')
    await first.exited
    const sends = `${alice}.sends`
    expect(readdirSync(sends)).toHaveLength(1) // the key, kept until the receiver confirms

    const second = send()
    expect(await second.exited, second.stderr()).toBe(0)
    expect(await listener.exited, listener.stderr()).toBe(0)
    const r = jsonLines<{ event: string; parts: number; resumedParts: number; partsSent: number }>(second.stdout()).find(
      (e) => e.event === 'file',
    )
    if (!r) throw new Error(`no file event: ${second.stdout()}`)
    expect(r.resumedParts).toBeGreaterThanOrEqual(r.parts / 4 - 8) // what was confirmed, less the window
    expect(r.partsSent).toBeLessThanOrEqual(r.parts - r.resumedParts)
    const got = jsonLines<Record<string, string>>(listener.stdout()).find((e) => e.event === 'file') ?? {}
    const sha = createHash('sha256').update(data).digest('hex')
    expect(got.sha256).toBe(sha)
    expect(
      createHash('sha256')
        .update(readFileSync(join(out, 'file.bin')))
        .digest('hex'),
    ).toBe(sha)
    expect(existsSync(sends) ? readdirSync(sends) : []).toHaveLength(0)
  })
})
