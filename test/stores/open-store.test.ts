import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryMessageStore, openStore, SqliteMessageStore } from '../../stores/index.js'

const dir = mkdtempSync(join(tmpdir(), 'carrier-open-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('openStore', () => {
  it('opens memory: and sqlite:FILE (also sqlite:///absolute)', async () => {
    const mem = await openStore('memory:')
    expect(mem).toBeInstanceOf(MemoryMessageStore)
    await mem.close()
    for (const uri of [`sqlite:${join(dir, 'a.db')}`, `sqlite://${join(dir, 'b.db')}`]) {
      const s = await openStore(uri)
      expect(s).toBeInstanceOf(SqliteMessageStore)
      await s.enqueue({ id: 'x', recipient: 'r', data: new Uint8Array([1]), receivedAt: 1 })
      await s.close()
      const again = await openStore(uri)
      expect((await again.peek('r', 1)).map((m) => m.id)).toEqual(['x'])
      await again.close()
    }
  })

  it('refuses URIs it cannot open with ERR_STORE_URI', async () => {
    for (const uri of ['', 'sqlite:', 'sqlite://', 'mysql://localhost/db', 'memory', 'file.db', 42 as unknown as string])
      await expect(openStore(uri)).rejects.toMatchObject({ code: 'ERR_STORE_URI' })
  })

  it('says ERR_STORE_FAILED when the SQLite file cannot be opened', async () => {
    await expect(openStore(`sqlite:${join(dir, 'no-such-dir', 'x.db')}`)).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' })
  })
})
