import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockPcscd, unlockPcscd } from './pcscd.js'
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
