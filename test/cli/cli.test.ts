import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/prng.js'
import { tempDir } from '../support/temp.js'

function carrier(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/entry.ts', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('carrier CLI', () => {
  it('--help lists the commands', () => {
    const r = carrier('--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Usage: carrier/)
    expect(r.stdout).toMatch(/loopback/)
  })

  it('--version prints the package version', () => {
    expect(carrier('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('a failing command exits non-zero with a one-line reason', () => {
    const r = carrier('loopback', '/definitely/not/here')
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^carrier: .*no such file/)
  })

  it('carrier listen at an endpoint it cannot serve fails in one clear line', () => {
    const dir = tempDir('carrier-cli-')
    const id = join(dir, 'id.json')
    expect(carrier('keys', 'new', '--out', id).code).toBe(0)
    for (const [via, reason] of [
      ['ble://8129adad-7895-4a7b-94ee-844ef3c54453', /a ble:\/\/ endpoint we listen at needs its \?token=/],
      ['nfc:', /option '--via <uri>' argument 'nfc:' is invalid. Expected a URI with one of mqtt:\/\/, .*ble:\/\//],
      ['ble://not-a-uuid?token=a', /not a 128-bit service UUID/],
    ] as const) {
      const r = carrier('listen', '--identity', id, '--via', via, '--out', join(dir, 'in'))
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(reason)
    }
  })

  it('an unknown command exits non-zero', () => {
    const r = carrier('teleport')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/unknown command/)
  })

  it('loopback --json sends a file byte-exact through a lossy link and prints one JSON line', () => {
    const file = join(tempDir('carrier-cli-'), 'loopback.bin')
    writeFileSync(file, seededBytes(50_000, 1))
    for (const extra of [[], ['--simplex']]) {
      const r = carrier('--json', 'loopback', file, '--mtu', '100', '--loss', '0.1', ...extra)
      expect(r.code).toBe(0)
      const lines = r.stdout.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(JSON.parse(lines[0] as string)).toMatchObject({ command: 'loopback', envelopeBytes: 50_000, byteExact: true })
    }
  })

  it('an MTU below the minimum is a typed one-line error', () => {
    const file = join(tempDir('carrier-cli-mtu-'), 'one.bin')
    writeFileSync(file, 'x')
    const r = carrier('loopback', file, '--mtu', '10')
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^carrier: ERR_MTU_TOO_SMALL: /)
  })
})

describe('carrier keys / pack / unpack', () => {
  it('makes two identities, packs a signed authcrypt message for one, which unpacks it; the other cannot', () => {
    const dir = tempDir('carrier-didcomm-')
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect(carrier('--json', 'keys', 'new', '--out', alice).code).toBe(0)
    const made = carrier('--json', 'keys', 'new', '--out', bob, '--service', 'mqtt://127.0.0.1:1883/didcomm/v2/x/in')
    const bobDid = JSON.parse(made.stdout).did as string
    expect(bobDid).toMatch(/^did:peer:2\.Ez6LS/)
    const msg = join(dir, 'msg.json')
    writeFileSync(msg, JSON.stringify({ type: 'https://example.org/hi', body: { text: 'hi' } }))
    const env = join(dir, 'env.json')
    const packed = carrier('pack', msg, '--to', bobDid, '--identity', alice, '--sign', '--out', env)
    expect(packed.code, packed.stderr).toBe(0)
    const out = carrier('--json', 'unpack', env, '--identity', bob)
    expect(out.code, out.stderr).toBe(0)
    const r = JSON.parse(out.stdout)
    expect(r.message.body).toEqual({ text: 'hi' })
    expect(r.metadata).toMatchObject({ encrypted: true, authenticated: true, nonRepudiation: true })
    const wrong = carrier('unpack', env, '--identity', alice)
    expect(wrong.code).toBe(1)
    expect(wrong.stderr.trim()).toMatch(/^carrier: ERR_DIDCOMM_NO_KEY: /)
  })

  it('keys show prints the DID of an identity file, with --json its public document and no secrets', () => {
    const dir = tempDir('carrier-keys-show-')
    const bob = join(dir, 'bob.json')
    const made = JSON.parse(carrier('--json', 'keys', 'new', '--out', bob, '--service', 'https://bob.example/didcomm').stdout)
    const shown = carrier('keys', 'show', bob)
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toBe(`${made.did}\n`)
    const json = JSON.parse(carrier('--json', 'keys', 'show', bob).stdout)
    expect(json.did).toBe(made.did)
    expect(json.document.id).toBe(made.did)
    expect(json.document.service[0].serviceEndpoint.uri).toBe('https://bob.example/didcomm')
    expect(JSON.stringify(json)).not.toMatch(/"d":/) // no private key (JWK "d") anywhere
    const notOne = join(dir, 'notes.txt')
    writeFileSync(notOne, 'just notes')
    const bad = carrier('keys', 'show', notOne)
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim()).toBe(`carrier: ${notOne} is not an identity file (carrier keys new)`)
  })
})
