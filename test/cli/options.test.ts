import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Command, Help } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { COMMANDS } from '../../cli/commands/index.js'
import { buildProgram, main } from '../../cli/main.js'
import { createOutput } from '../../cli/output.js'
import { runCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

/** A bad value for each option, and what the error must say was expected. Per command where the same flag differs. */
const BAD: Record<string, [value: string, expected: RegExp][]> = {
  '--identity': [['', /Expected a file name/]],
  '--via': [
    ['ftp://example.com', /Expected a URI with one of mqtt:\/\/, .*https?:\/\/, .*ble:\/\//],
    ['not a uri', /Expected a URI/],
  ],
  '--wait': [
    ['0', /Expected milliseconds, from 1/],
    ['5s', /Expected milliseconds/],
  ],
  '--answer-wait': [['-1', /Expected milliseconds/]],
  '--timeout': [['abc', /Expected milliseconds/]],
  '--hci': [['bluetooth', /Expected an HCI transport: hci:N/]],
  '--out': [['', /Expected a (file|folder) name/]],
  '--resume-dir': [['', /Expected a folder name/]],
  '--reply': [['', /Expected a file name/]],
  '--token': [['', /Expected a token/]],
  '--count': [
    ['0', /Expected a count 1 or more/],
    ['1.5', /Expected a count/],
  ],
  'listen --count': [
    ['-1', /Expected a count 0 or more/],
    ['1.5', /Expected a count/],
  ],
  'bridge --from': [['wifi', /Expected one of ble, nfc/]],
  'mqtt send --from': [['a/b', /Expected a recipient key/]],
  '--group': [['a/b', /Expected a group name/]],
  '--reader': [['', /Expected part of a reader name/]],
  'bridge --to': [['http://example.com', /Expected a URI with one of mqtt:\/\//]],
  'mqtt send --to': [['#', /Expected a recipient key .* or the DID URL of a key/]],
  '--to': [
    ['bob', /Expected a DID: did:<method>:<id>/],
    ['did:key:z6Mkxyz', /Expected a complete did:key DID/],
  ],
  '--mediator': [['did:peer:2.Zxx', /Expected a complete did:peer:2 DID/]],
  '--max-packet': [['10', /Expected a packet size in bytes from 1024/]],
  '--port': [
    ['65536', /Expected a TCP port from 0 to 65535/],
    ['http', /Expected a TCP port/],
  ],
  '--vpcd-port': [['-5', /Expected a TCP port/]],
  '--goal': [['', /Expected a goal/]],
  '--png': [['invitation.jpg', /Expected a file name ending in \.png/]],
  '--service': [['ftp://example.com/didcomm', /Expected a URI with one of mqtt:\/\/, .*https:\/\/, .*wss:\/\//]],
  '--loss': [
    ['2', /Expected a probability from 0 to 1/],
    ['-0.1', /Expected a probability/],
    ['lots', /Expected a probability/],
  ],
  '--mtu': [
    ['abc', /Expected a frame size in bytes from 1 to 65535/],
    ['0', /Expected a frame size/],
  ],
  '--broker': [['tcp://127.0.0.1:1883', /Expected a URI with one of mqtt:\/\//]],
  '--inbox': [['a b', /Expected a recipient key/]],
  '--host': [['', /Expected a host name/]],
  '--vpcd-host': [['', /Expected a host name/]],
  '--invitation': [['https://example.com/', /Expected an invitation URL with an _oob parameter/]],
  '--ecc': [['Z', /Expected one of L, M, Q, H/]],
  '--frames': [['0', /Expected a count/]],
  '--scale': [['0', /Expected pixels per module, from 1 to 64/]],
  '--version': [
    ['41', /Expected a QR version from 1 to 40/],
    ['x', /Expected a QR version/],
  ],
  '--fps': [['0', /Expected codes per second, from 0.1 to 60/]],
  '--message': [
    ['{not json', /Expected a JSON object/],
    ['[1]', /Expected a JSON object/],
  ],
  '--media-type': [['pdf', /Expected a media type/]],
  '--quota-messages': [['0', /Expected a count 1 or more/]],
  '--quota-bytes': [['lots', /Expected a count/]],
  '--quota-interval': [['0', /Expected milliseconds/]],
  '--poll': [['0', /Expected milliseconds/]],
  '--colors': [['blue', /Expected one of paint, dark, light/]],
  'listen --http': [
    ['8080', /Expected \[host\]:port/],
    [':70000', /Expected \[host\]:port/],
  ],
  'mediator --http': [
    ['8080', /Expected \[host\]:port/],
    [':99999', /Expected \[host\]:port/],
  ],
  'mediator --mqtt': [['http://127.0.0.1:1883', /Expected a URI with one of mqtt:\/\//]],
  '--log-level': [['verbose', /Expected one of error, warn, info, debug/]],
  '--store': [
    ['redis://127.0.0.1', /Expected a store URI: memory:, sqlite:FILE or postgres:/],
    ['sqlite:', /Expected a store URI/],
  ],
  '--public-url': [['ftp://example.com', /Expected a URI with one of http:\/\//]],
  '--max-bytes': [['10', /Expected a size in bytes from 1024/]],
  '--blob-max-bytes': [
    ['0', /Expected a size in bytes 1 or more/],
    ['1GB', /Expected a size in bytes 1 or more/],
  ],
  '--blob-quota': [['-5', /Expected a size in bytes 1 or more/]],
  '--blob-ttl': [['0', /Expected seconds, from 1 to 31536000/]],
  'mediator --threads': [
    ['-1', /Expected a thread count from 0 to 64/],
    ['two', /Expected a thread count from 0 to 64/],
  ],
  '--name': [['', /Expected a file name/]],
  '--dir': [['', /Expected a folder name/]],
  '--part-size': [['100', /Expected a size in bytes from 1024/]],
  '--window': [
    ['0', /Expected a number of chunks from 1 to 64/],
    ['65', /Expected a number of chunks/],
  ],
  '--idle-timeout': [['0', /Expected milliseconds/]],
  '--max-file-bytes': [['0', /Expected a size in bytes/]],
  '--partial-ttl': [['soon', /Expected milliseconds/]],
}
/** Options whose every value is valid, and why. */
const FREE: Record<string, string> = { 'send --text': 'any text is a message, even an empty one' }

interface ValueOption {
  path: string[]
  flag: string
  validated: boolean
}

function valueOptions(c: Command, path: string[] = []): ValueOption[] {
  return [
    ...c.options.filter((o) => o.required || o.optional).map((o) => ({ path, flag: o.long as string, validated: !!o.parseArg })),
    ...c.commands.flatMap((s) => valueOptions(s, [...path, s.name()])),
  ]
}

const program = await buildProgram({ out: createOutput(false) })
const options = valueOptions(program).filter((o) => !FREE[`${o.path.join(' ')} ${o.flag}`])
const bad = (o: ValueOption) => BAD[`${o.path.join(' ')} ${o.flag}`] ?? BAD[o.flag] ?? []

async function stderrOf(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s)
    return true
  })
  try {
    return { code: await main(argv), stderr }
  } finally {
    spy.mockRestore()
  }
}

describe('every CLI option is checked', () => {
  afterEach(() => vi.restoreAllMocks())

  it('every option that takes a value has a parser and bad values in the table', () => {
    expect(options.length).toBeGreaterThan(70)
    expect(options.filter((o) => !o.validated).map((o) => `${o.path.join(' ')} ${o.flag}`)).toEqual([])
    expect(options.filter((o) => bad(o).length === 0).map((o) => `${o.path.join(' ')} ${o.flag}`)).toEqual([])
  })

  for (const o of options)
    for (const [value, expected] of bad(o))
      it(`carrier ${o.path.join(' ')} ${o.flag} ${JSON.stringify(value)}: exit 1, says what it expected`, async () => {
        const r = await stderrOf([...o.path, o.flag, value])
        expect(r.code).toBe(1)
        expect(r.stderr).toContain(`option '${o.flag}`)
        expect(r.stderr).toMatch(expected)
      })
})

describe('the defects seen, through the real CLI', () => {
  it('qr encode --ecc Z, loopback --loss 2 and --mtu abc exit 1 with what was expected, printing nothing on stdout', async () => {
    for (const [args, expected] of [
      [['qr', 'encode', 'x', '--out', 'frames', '--ecc', 'Z'], /Expected one of L, M, Q, H/],
      [['loopback', 'x', '--loss', '2'], /Expected a probability from 0 to 1/],
      [['loopback', 'x', '--mtu', 'abc'], /Expected a frame size in bytes/],
    ] as const) {
      const r = await runCarrier(...args)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(expected)
    }
  })

  it('invite from an identity without a service is refused with what to do (not an unusable invitation, not exit 13)', async () => {
    const dir = tempDir('carrier-options-')
    expect((await runCarrier('keys', 'new', '--out', `${dir}/alice.json`)).code).toBe(0)
    const r = await runCarrier('invite', '--identity', `${dir}/alice.json`, '--png', `${dir}/invitation.png`, '--wait', '1000')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim()).toMatch(/^carrier: .*alice\.json has no service endpoint.*--service URI, or pass --via URI$/)
  })

  it('nfc reader with no pcscd answering fails at once with what to start, instead of hanging past --wait', async () => {
    const dir = tempDir('carrier-options-')
    writeFileSync(join(dir, 'env.json'), '{}')
    const saved = process.env.PCSCLITE_CSOCK_NAME
    process.env.PCSCLITE_CSOCK_NAME = join(dir, 'no-pcscd.comm') // where this child's pcsc-lite looks for pcscd
    try {
      const r = await runCarrier('nfc', 'reader', join(dir, 'env.json'), '--wait', '1500')
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toMatch(
        /^carrier: ERR_NFC_NO_READER: pcscd is not running \(ENOENT at .*no-pcscd\.comm\): start it/,
      )
    } finally {
      if (saved === undefined) delete process.env.PCSCLITE_CSOCK_NAME
      else process.env.PCSCLITE_CSOCK_NAME = saved
    }
  })
})

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)]
}

describe('--help', () => {
  it('each default is printed once: no option with a default also names one in its description', () => {
    const twice = allCommands(program).flatMap((c) =>
      c.options
        .filter((o) => (o.defaultValue !== undefined || o.defaultValueDescription) && /\bdefault\b/i.test(o.description))
        .map((o) => `${c.name()} ${o.long}: ${o.description}`),
    )
    expect(twice).toEqual([])
  })

  it('the top-level list (commands/index.ts, shown without loading them) says what each command module registers', () => {
    const help = new Help()
    const registered = program.commands.map((c) => ({
      name: c.name(),
      term: help.subcommandTerm(c),
      description: c.description(),
    }))
    expect(COMMANDS.map(({ name, term, description }) => ({ name, term, description }))).toEqual(registered)
  })

  it('carrier --help loads no command module; carrier keys --help loads only its own', async () => {
    const top = await buildProgram({ out: createOutput(false) }, ['--help'])
    expect(top.commands.map((c) => c.options.length + c.commands.length)).toEqual(COMMANDS.map(() => 0))
    const keys = await buildProgram({ out: createOutput(false) }, ['keys', '--help'])
    expect(keys.commands.map((c) => c.name())).toEqual(['keys', 'pack', 'sign', 'unpack'])
  })
})
