import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../../stores/group-commit.js'

describe('GroupCommit', () => {
  it('commits the writes of one tick together and settles each after its commit', async () => {
    const batches: number[][] = []
    const g = new GroupCommit<number>(async (items) => {
      batches.push(items)
      return items.map((i) => (i % 3 === 0 ? new Error(`refused ${i}`) : undefined))
    })
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => g.submit(i)))
    expect(batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? 'rejected' : 'fulfilled')))
  })

  it('collects writes submitted during a commit into the next one', async () => {
    const batches: number[][] = []
    let release: () => void = () => {}
    const g = new GroupCommit<number>(async (items) => {
      batches.push(items)
      if (batches.length === 1) await new Promise<void>((r) => (release = r))
      return items.map(() => undefined)
    })
    const first = g.submit(0)
    while (batches.length === 0) await new Promise((r) => setImmediate(r))
    const later = [g.submit(1), g.submit(2), g.submit(3)]
    release()
    await Promise.all([first, ...later])
    expect(batches).toEqual([[0], [1, 2, 3]])
  })

  it('splits batches by count and by bytes, always taking at least one item', async () => {
    const batches: number[][] = []
    const g = new GroupCommit<number>(
      async (items) => {
        batches.push(items)
        return items.map(() => undefined)
      },
      { maxItems: 3, maxBytes: 10, sizeOf: (n) => n },
    )
    await Promise.all([1, 1, 1, 1, 20, 4, 4, 4].map((n) => g.submit(n)))
    expect(batches).toEqual([[1, 1, 1], [1], [20], [4, 4], [4]])
  })

  it('rejects every write of a batch whose commit failed, and carries on with the next', async () => {
    let calls = 0
    const g = new GroupCommit<number>(async (items) => {
      calls++
      if (calls === 1) throw new Error('disk full')
      return items.map(() => undefined)
    })
    const failed = await Promise.allSettled([g.submit(1), g.submit(2)])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    await g.submit(3)
    await g.flush()
    expect(calls).toBe(2)
  })
})
