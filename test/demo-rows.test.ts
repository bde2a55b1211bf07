import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { havePcscd, Pcscd } from './support/pcscd.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** `npm run demo` as a child, with some packages hidden as if npm had not installed them. */
function demo(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './test/support/hide-packages.mjs', 'examples/demo.ts', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    )
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => p.kill('SIGKILL'), 5 * 60_000)
    p.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe.skipIf(!havePcscd())('the demo: each row stands alone and stops what it started', () => {
  it('nfc-pcsc missing: the NFC row says what to install, the next row still runs, and pcscd was stopped', {
    timeout: 12 * 60_000,
  }, async () => {
    const r = await demo(['--rows', 'nfc,qr'], { CARRIER_HIDE_PACKAGES: 'nfc-pcsc', CI: '' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('NFC did not run: the NFC reader adapter needs the package "nfc-pcsc": npm install nfc-pcsc')
    expect(r.stdout).not.toMatch(/^NFC .*yes\s*$/m)
    expect(r.stdout).toMatch(/^QR \(v25-L PNG codes, 20 % unseen\).*real codes, PNG\s+yes\s*$/m)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/) // no stack trace
    // the pcscd the NFC row started is gone: the next NFC user gets one of its own
    const next = await Pcscd.start({ lockTimeoutMs: 10 * 60_000 })
    await next.stop()
  })

  it('under CI=true a missing stack fails the demo (after the other rows ran)', { timeout: 12 * 60_000 }, async () => {
    const r = await demo(['--rows', 'nfc,qr'], { CARRIER_HIDE_PACKAGES: 'nfc-pcsc', CI: 'true' })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('NFC did not run:')
    expect(r.stdout).toMatch(/^QR .*yes\s*$/m)
    const next = await Pcscd.start({ lockTimeoutMs: 10 * 60_000 })
    await next.stop()
  })
})
