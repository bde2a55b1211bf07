import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { jsonLines, runCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

const cli = ['--import', 'tsx', 'cli/entry.ts']
let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker()
})
afterAll(async () => {
  await broker?.close()
})

describe('carrier mqtt send / receive', () => {
  it('moves envelope files byte-exact through a broker, chunked and bare', async () => {
    const dir = tempDir('carrier-mqtt-cli-')
    const out = join(dir, 'out')
    const big = seededBytes(300_000, 9)
    const smallJwe =
      '{"protected":"eyJ","recipients":[{"header":{"kid":"k"},"encrypted_key":"x"}],"iv":"a","ciphertext":"c","tag":"t"}'
    writeFileSync(join(dir, 'big.bin'), big)
    writeFileSync(join(dir, 'small.json'), smallJwe)
    const receiver = spawn(
      process.execPath,
      [...cli, '--json', 'mqtt', 'receive', '--broker', broker.url, '--inbox', 'cliInbox1', '--out', out, '--count', '2'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    receiver.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((r) => receiver.once('exit', r))
    await new Promise((r) => setTimeout(r, 1500)) // let it subscribe
    // not spawnSync: the broker runs in this process and must keep answering
    const send = (...args: string[]) => runCarrier('--json', 'mqtt', 'send', '--broker', broker.url, '--to', 'cliInbox1', ...args)
    const a = await send(join(dir, 'big.bin'))
    expect(a.code, a.stderr).toBe(0)
    expect(JSON.parse(a.stdout)).toMatchObject({ command: 'mqtt send', envelopeBytes: 300_000, confirmed: true })
    const b = await send('--bare', join(dir, 'small.json'))
    expect(b.code, b.stderr).toBe(0)
    expect(JSON.parse(b.stdout)).toMatchObject({ confirmed: false })
    expect(await exited).toBe(0)
    const files = readdirSync(out).sort()
    expect(files).toHaveLength(2)
    expect(Buffer.compare(readFileSync(join(out, files[0] as string)), Buffer.from(big))).toBe(0)
    expect(readFileSync(join(out, files[1] as string), 'utf8')).toBe(smallJwe)
    expect(jsonLines<{ bytes: number }>(stdout).map((l) => l.bytes)).toEqual([300_000, smallJwe.length])
  }, 60_000)

  it('fails with a one-line typed error when the broker is unreachable', () => {
    const r = spawnSync(
      process.execPath,
      [...cli, 'mqtt', 'send', '--broker', 'mqtt://127.0.0.1:1', '--to', 'x', 'package.json'],
      {
        encoding: 'utf8',
      },
    )
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(/^carrier: ERR_BROKER_UNREACHABLE: /)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
