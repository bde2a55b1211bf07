import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listensOn, lockPcscd, unlockPcscd } from './pcscd.js'
import { tempDir } from './temp.js'

// The lock the pcscd users take turns through, on a private path (the real one is shared by the NFC suites).
describe('pcscd lock', () => {
  const fresh = () => join(tempDir('carrier-lock-test-'), 'lock')

  it('is taken when free, released by its owner only', async () => {
    const lock = fresh()
    await lockPcscd(1000, lock)
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid))
    writeFileSync(join(lock, 'pid'), '999999999') // someone else's now
    unlockPcscd(lock)
    expect(existsSync(lock)).toBe(true)
    writeFileSync(join(lock, 'pid'), String(process.pid))
    unlockPcscd(lock)
    expect(existsSync(lock)).toBe(false)
  })

  it('takes over the lock of an owner that died', async () => {
    const lock = fresh()
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number
    mkdirSync(lock)
    writeFileSync(join(lock, 'pid'), String(dead))
    await lockPcscd(1000, lock)
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid))
    unlockPcscd(lock)
  })

  it('waits for a live owner, then gives up with who holds it', async () => {
    const lock = fresh()
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(owner.pid))
      await expect(lockPcscd(600, lock)).rejects.toThrow(`pcscd is in use by process ${owner.pid}`)
      expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(owner.pid))
    } finally {
      owner.kill()
    }
  })
})

// Pcscd.start checks vpcd's port is pcscd's own listening socket (another process may have taken
// the free port first, leaving a pcscd without its reader), never by connecting to it.
describe('listensOn', () => {
  it("tells a process's own listening port from one another process holds, and from a closed one", async () => {
    const server = createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    const other = spawn(process.execPath, [
      '-e',
      "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))",
    ])
    try {
      const otherPort = await new Promise<number>((r) => other.stdout.once('data', (d) => r(Number(String(d).trim()))))
      expect(listensOn(process.pid, port)).toBe(true)
      expect(listensOn(other.pid as number, port)).toBe(false)
      expect(listensOn(process.pid, otherPort)).toBe(false)
      expect(listensOn(other.pid as number, otherPort)).toBe(true)
    } finally {
      other.kill()
      await new Promise((r) => server.close(r))
    }
    expect(listensOn(process.pid, port)).toBe(false)
  })
})
