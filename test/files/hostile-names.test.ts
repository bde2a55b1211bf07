import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { jsonLines, runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

let broker: EmbeddedBroker
let dir: string
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
  dir = tempDir('carrier-names-')
})
afterAll(async () => {
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Name the sender claims → the name the file gets in the listener's folder. */
const HOSTILE: [string, string][] = [
  ['..', 'file'],
  ['.', 'file (1)'],
  ['../../evil.sh', 'evil.sh'],
  ['/etc/passwd', 'passwd'],
  ['C:\\Windows\\System32\\drivers.dll', 'drivers.dll'],
  ['C:evil.txt', 'C_evil.txt'],
  ['CON', '_CON'],
  ['nul.txt', '_nul.txt'],
  ['bell\u0007esc\u001b[31m.txt', 'bellesc[31m.txt'],
  ['\u202egnp.exe', 'gnp.exe'],
  ['.bashrc', 'bashrc'],
  ['trailing. . ', 'trailing'],
  [`${'x'.repeat(300)}.pdf`, `${'x'.repeat(196)}.pdf`],
]

describe('carrier listen: names from the wire are hostile', () => {
  // the limit is hang detection only: ~20 carrier processes run one after another under tsx, 147 s
  // alone on a machine loaded by other work (load ~20, 2 cores), over 180 s beside other suites
  it('a table of hostile names, sent anoncrypted by the real sender, lands safely in the folder; two files of one name both stay', {
    timeout: 900_000,
  }, async () => {
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect((await runCarrier('keys', 'new', '--out', alice, '--service', broker.url)).code).toBe(0)
    const bobDid = JSON.parse((await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', broker.url)).stdout).did
    const out = join(dir, 'inbox')
    const total = HOSTILE.length + 3
    const listener = startCarrier('--json', 'listen', '--identity', bob, '--out', out, '--count', String(total))
    await listener.line(/"event":"ready"/)
    const send = async (name: string, content: string, ...more: string[]) => {
      const file = join(dir, 'payload.bin')
      writeFileSync(file, content)
      const r = await runCarrier('--json', 'send-file', file, '--identity', alice, '--to', bobDid, '--name', name, ...more)
      expect(r.code, `${JSON.stringify(name)}: ${r.stderr}`).toBe(0)
    }
    for (const [i, [name]] of HOSTILE.entries()) await send(name, `hostile ${i}`, '--anon')
    // the parts protocol (authcrypt) takes the same care, and never overwrites either
    await send('report.pdf', 'first report')
    await send('report.pdf', 'second report')
    await send('../report.pdf', 'third report', '--anon')
    expect(await listener.exited, listener.stderr()).toBe(0)
    const events = jsonLines<{ event: string; files?: string[] }>(listener.stdout())
    expect(events.filter((e) => e.event === 'error')).toEqual([])
    const saved = events.filter((e) => e.event === 'message').map((e) => e.files?.[0])
    expect(saved).toEqual([...HOSTILE.map(([, safe]) => safe), 'report.pdf', 'report (1).pdf', 'report (2).pdf'])
    for (const [i, [, safe]] of HOSTILE.entries()) expect(readFileSync(join(out, safe), 'utf8')).toBe(`hostile ${i}`)
    expect(readFileSync(join(out, 'report.pdf'), 'utf8')).toBe('first report')
    expect(readFileSync(join(out, 'report (1).pdf'), 'utf8')).toBe('second report')
    expect(readFileSync(join(out, 'report (2).pdf'), 'utf8')).toBe('third report')
    // nothing was written outside the folder (the sender's own resume folder, empty once every file
    // was confirmed, is the sender's), and nothing but files and their metadata inside it
    expect(readdirSync(dir).sort()).toEqual(['alice.json', 'alice.json.sends', 'bob.json', 'inbox', 'payload.bin'])
    expect(readdirSync(join(dir, 'alice.json.sends'))).toEqual([])
    const names = readdirSync(out).filter((n) => !n.endsWith('.json') && !n.startsWith('.carrier-'))
    expect(names.sort()).toEqual([...HOSTILE.map(([, safe]) => safe), 'report.pdf', 'report (1).pdf', 'report (2).pdf'].sort())
  })
})
