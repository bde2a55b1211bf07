import { afterEach, describe, expect, it } from 'vitest'
import type { MessageStore, QueuedMessage } from '../mediator/store.js'
import { MAX_STORE_ID_BYTES } from '../mediator/store.js'
import { seededBytes } from './prng.js'

export interface StoreConformanceOptions {
  /**
   * A second instance on the same state as `first` (another connection, as a second mediator
   * instance would open): enables the cases for several instances sharing one store.
   */
  secondInstance?: (first: MessageStore) => Promise<MessageStore>
  /** `onEnqueued` fires in the second instance too (PostgreSQL's LISTEN/NOTIFY). Default true. */
  signalsAcrossInstances?: boolean
  /** Per-test time-out (a hang fails, it never passes). Default 60 s. */
  testTimeoutMs?: number
}

/**
 * The message store conformance suite: every MessageStore's tests call it with a factory for a
 * fresh, empty store, so each implementation proves every clause of the contract in store.ts.
 */
export function storeConformanceSuite(
  name: string,
  makeStore: () => Promise<MessageStore>,
  options: StoreConformanceOptions = {},
): void {
  const timeout = options.testTimeoutMs ?? 60_000
  const opened: MessageStore[] = []

  async function fresh(): Promise<MessageStore> {
    const s = await makeStore()
    opened.push(s)
    return s
  }

  async function second(first: MessageStore): Promise<MessageStore> {
    const s = await (options.secondInstance as NonNullable<typeof options.secondInstance>)(first)
    opened.push(s)
    return s
  }

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close()
  })

  let serial = 0
  const msg = (recipient: string, size = 32, extra: Partial<QueuedMessage> = {}): QueuedMessage => {
    serial += 1
    return { id: `m-${serial}`, recipient, data: seededBytes(size, serial), receivedAt: 1_700_000_000_000 + serial, ...extra }
  }

  describe(`${name}: message store conformance`, () => {
    it('is empty when fresh', { timeout }, async () => {
      const s = await fresh()
      expect(await s.count('did:example:a')).toEqual({ messages: 0, bytes: 0 })
      expect(await s.peek('did:example:a', 10)).toEqual([])
      expect(await s.delete('did:example:a', ['x'])).toBe(0)
      expect(await s.purgeExpired(Date.now())).toBe(0)
      expect(await s.grantOf('did:example:a')).toBeNull()
      expect(await s.keysOf('did:example:a')).toEqual([])
      expect(await s.clientOfKey('did:example:a#key-1')).toBeNull()
    })

    it('peeks the oldest messages first, per recipient, without removing them', { timeout }, async () => {
      const s = await fresh()
      const a = [msg('A'), msg('A'), msg('A'), msg('A'), msg('A')]
      const b = [msg('B'), msg('B'), msg('B')]
      for (let i = 0; i < a.length; i++) {
        await s.enqueue(a[i] as QueuedMessage)
        if (b[i]) await s.enqueue(b[i] as QueuedMessage)
      }
      expectMessages(await s.peek('A', 10), a)
      expectMessages(await s.peek('B', 10), b)
      expectMessages(await s.peek('A', 10), a)
      expect(await s.count('A')).toEqual({ messages: 5, bytes: 5 * 32 })
      expect(await s.count('C')).toEqual({ messages: 0, bytes: 0 })
    })

    it('keeps FIFO order for a burst of concurrent enqueues to one recipient', { timeout }, async () => {
      const s = await fresh()
      const all = Array.from({ length: 50 }, () => msg('A', 8))
      await Promise.all(all.map((m) => s.enqueue(m)))
      expectMessages(await s.peek('A', 100), all)
    })

    it('peeks at most `limit` messages (0 and negative give none, fractions round down)', { timeout }, async () => {
      const s = await fresh()
      const a = [msg('A'), msg('A'), msg('A')]
      for (const m of a) await s.enqueue(m)
      expectMessages(await s.peek('A', 2), a.slice(0, 2))
      expectMessages(await s.peek('A', 2.7), a.slice(0, 2))
      expect(await s.peek('A', 0)).toEqual([])
      expect(await s.peek('A', -3)).toEqual([])
      expect(await s.peek('A', Number.NaN)).toEqual([])
      expectMessages(await s.peek('A', Number.POSITIVE_INFINITY), a)
    })

    it("deletes only the recipient's own ids and says how many it removed", { timeout }, async () => {
      const s = await fresh()
      const a = [msg('A'), msg('A'), msg('A'), msg('A')]
      const b = [msg('B')]
      for (const m of [...a, ...b]) await s.enqueue(m)
      const ids = (xs: QueuedMessage[]) => xs.map((m) => m.id)
      expect(await s.delete('A', [...ids([a[0], a[2]] as QueuedMessage[]), ...ids(b), 'no-such-id'])).toBe(2)
      expectMessages(await s.peek('A', 10), [a[1], a[3]] as QueuedMessage[])
      expectMessages(await s.peek('B', 10), b)
      expect(await s.delete('A', [(a[0] as QueuedMessage).id])).toBe(0)
      expect(await s.delete('A', [])).toBe(0)
      expect(await s.delete('B', ids(b))).toBe(1)
      expect(await s.count('B')).toEqual({ messages: 0, bytes: 0 })
    })

    it('keeps data byte-exact: random binary, zero bytes, empty, 1 MB, Buffer input, no aliasing', { timeout }, async () => {
      const s = await fresh()
      const sizes = [0, 1, 2, 255, 256, 1023, 1024, 65_537, 1_000_000]
      const sent = sizes.map((n, i) => msg('A', n, { data: seededBytes(n, 1000 + i) }))
      sent.push(msg('A', 0, { data: new Uint8Array(4096) }))
      sent.push(msg('A', 0, { data: Uint8Array.from([0, 0, 0xff, 0xfe, 0, 0xc3, 0x28, 0, 0x5c, 0x27, 0x22, 0]) }))
      const offsetView = new Uint8Array(seededBytes(300, 7).buffer, 100, 50)
      sent.push(msg('A', 0, { data: offsetView }))
      const nodeBuffer = (globalThis as { Buffer?: { from(a: Uint8Array): Uint8Array } }).Buffer
      if (nodeBuffer) sent.push(msg('A', 0, { data: nodeBuffer.from(seededBytes(77, 8)) }))
      const kept = sent.map((m) => ({ ...m, data: new Uint8Array(m.data) }))
      for (const m of sent) await s.enqueue(m)
      for (const m of sent) m.data.fill(0xaa)
      const got = await s.peek('A', 100)
      expectMessages(got, kept)
      for (const m of got) expect(Object.getPrototypeOf(m.data)).toBe(Uint8Array.prototype)
      for (const m of got) m.data.fill(0x55)
      expectMessages(await s.peek('A', 100), kept)
      expect((await s.count('A')).bytes).toBe(kept.reduce((n, m) => n + m.data.length, 0))
    })

    it('refuses a message over the message quota, stores nothing, keeps earlier ones intact', { timeout }, async () => {
      const s = await fresh()
      const calls: string[] = []
      s.onEnqueued((r) => calls.push(r))
      const limits = { maxMessages: 3 }
      const a = [msg('A'), msg('A'), msg('A')]
      for (const m of a) await s.enqueue(m, limits)
      const over = msg('A')
      await expect(s.enqueue(over, limits)).rejects.toMatchObject({ name: 'QuotaExceededError', code: 'ERR_QUOTA_EXCEEDED' })
      expectMessages(await s.peek('A', 10), a)
      expect(await s.count('A')).toEqual({ messages: 3, bytes: 3 * 32 })
      await s.enqueue(msg('B'), limits)
      await eventually(() => calls.includes('B'))
      expect(calls.filter((r) => r === 'A').length).toBeLessThanOrEqual(3)
      await s.delete('A', [(a[0] as QueuedMessage).id])
      await s.enqueue(over, limits)
      expectMessages(await s.peek('A', 10), [a[1], a[2], over] as QueuedMessage[])
      await s.enqueue(msg('A'))
      expect((await s.count('A')).messages).toBe(4)
    })

    it('refuses a message over the byte quota, stores nothing, keeps earlier ones intact', { timeout }, async () => {
      const s = await fresh()
      const limits = { maxBytes: 100 }
      const first = msg('A', 60)
      await s.enqueue(first, limits)
      await expect(s.enqueue(msg('A', 50), limits)).rejects.toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
      const exact = msg('A', 40)
      await s.enqueue(exact, limits)
      await expect(s.enqueue(msg('A', 1), limits)).rejects.toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
      expectMessages(await s.peek('A', 10), [first, exact])
      expect(await s.count('A')).toEqual({ messages: 2, bytes: 100 })
      await expect(s.enqueue(msg('B', 101), limits)).rejects.toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
      expect(await s.count('B')).toEqual({ messages: 0, bytes: 0 })
      await expect(s.enqueue(msg('B', 10), { maxMessages: 5, maxBytes: 9 })).rejects.toMatchObject({
        code: 'ERR_QUOTA_EXCEEDED',
      })
      await expect(s.enqueue(msg('B', 1), { maxMessages: 0 })).rejects.toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
      expect(await s.count('B')).toEqual({ messages: 0, bytes: 0 })
    })

    it('never exceeds the quota under many parallel enqueues', { timeout }, async () => {
      const s = await fresh()
      const byCount = await Promise.allSettled(Array.from({ length: 200 }, () => s.enqueue(msg('A', 10), { maxMessages: 50 })))
      expect(byCount.filter((r) => r.status === 'fulfilled').length).toBe(50)
      for (const r of byCount) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_QUOTA_EXCEEDED' })
      expect(await s.count('A')).toEqual({ messages: 50, bytes: 500 })
      const byBytes = await Promise.allSettled(Array.from({ length: 120 }, () => s.enqueue(msg('B', 100), { maxBytes: 3050 })))
      expect(byBytes.filter((r) => r.status === 'fulfilled').length).toBe(30)
      expect(await s.count('B')).toEqual({ messages: 30, bytes: 3000 })
      expect((await s.peek('B', 100)).length).toBe(30)
    })

    it('skips expired messages in peek and count, and purgeExpired removes them', { timeout }, async () => {
      const s = await fresh()
      const now = Date.now()
      const past = msg('A', 10, { expiresAt: now - 1000 })
      const keep = msg('A', 20)
      const future = msg('A', 30, { expiresAt: now + 3_600_000 })
      for (const m of [past, keep, future]) await s.enqueue(m)
      expectMessages(await s.peek('A', 10), [keep, future])
      expect(await s.count('A')).toEqual({ messages: 2, bytes: 50 })
      const expiry = future.expiresAt as number
      expect(await s.purgeExpired(now)).toBe(1)
      expect(await s.purgeExpired(expiry - 1)).toBe(0)
      expect(await s.purgeExpired(expiry)).toBe(1)
      expectMessages(await s.peek('A', 10), [keep])
      expect(await s.purgeExpired(expiry + 1_000_000_000)).toBe(0)
      expect(await s.delete('A', [past.id, future.id])).toBe(0)
    })

    it('does not count expired messages against the quota', { timeout }, async () => {
      const s = await fresh()
      await s.enqueue(msg('A', 90, { expiresAt: Date.now() - 1 }))
      const live = msg('A', 90)
      await s.enqueue(live, { maxMessages: 1, maxBytes: 100 })
      expectMessages(await s.peek('A', 10), [live])
    })

    it('refuses an id it already holds, for any recipient, and keeps the stored one', { timeout }, async () => {
      const s = await fresh()
      const m = msg('A')
      await s.enqueue(m)
      await expect(s.enqueue({ ...m, data: seededBytes(5, 99) })).rejects.toMatchObject({ code: 'ERR_DUPLICATE_MESSAGE' })
      await expect(s.enqueue({ ...m, recipient: 'B' })).rejects.toMatchObject({ code: 'ERR_DUPLICATE_MESSAGE' })
      expectMessages(await s.peek('A', 10), [m])
      expect(await s.count('B')).toEqual({ messages: 0, bytes: 0 })
      const twin = msg('C')
      const both = await Promise.allSettled([s.enqueue(twin), s.enqueue({ ...twin })])
      expect(both.filter((r) => r.status === 'fulfilled').length).toBe(1)
      expectMessages(await s.peek('C', 10), [twin])
      await s.delete('A', [m.id])
      await s.enqueue(m)
      expectMessages(await s.peek('A', 10), [m])
    })

    it('refuses malformed messages and keys with StoreInputError, storing nothing', { timeout }, async () => {
      const s = await fresh()
      const good = msg('A')
      const bad: unknown[] = [
        { ...good, data: 'not bytes' },
        { ...good, data: [1, 2, 3] },
        { ...good, id: '' },
        { ...good, id: 42 },
        { ...good, recipient: '' },
        { ...good, id: 'x'.repeat(MAX_STORE_ID_BYTES + 1) },
        { ...good, recipient: 'r'.repeat(MAX_STORE_ID_BYTES + 1) },
        { ...good, recipient: 'é'.repeat(MAX_STORE_ID_BYTES / 2 + 1) },
        { ...good, receivedAt: Number.NaN },
        { ...good, receivedAt: '2026' },
        { ...good, expiresAt: Number.POSITIVE_INFINITY },
        null,
      ]
      for (const m of bad) await expect(s.enqueue(m as QueuedMessage)).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
      expect(await s.count('A')).toEqual({ messages: 0, bytes: 0 })
      await s.enqueue(good)
      await expect(s.addKeys('A', [''])).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
      await expect(s.addKeys('', ['k'])).rejects.toMatchObject({ code: 'ERR_STORE_INPUT' })
      await expect(s.setGrant('', { routingDid: 'did:example:m', grantedAt: 1 })).rejects.toMatchObject({
        code: 'ERR_STORE_INPUT',
      })
      expect(await s.clientOfKey('k')).toBeNull()
      expectMessages(await s.peek('A', 10), [good])
      const longest = `did:example:${'é'.repeat((MAX_STORE_ID_BYTES - 12) / 2)}`
      const atLimit = msg(longest, 8, { id: `i${'d'.repeat(MAX_STORE_ID_BYTES - 1)}` })
      await s.enqueue(atLimit)
      expectMessages(await s.peek(longest, 10), [atLimit])
      await s.addKeys(longest, [longest])
      expect(await s.clientOfKey(longest)).toBe(longest)
    })

    it('records grants; setGrant(null) removes the grant, its keys and its queue only', { timeout }, async () => {
      const s = await fresh()
      const g = { routingDid: 'did:example:mediator', grantedAt: 1_700_000_000_123 }
      await s.setGrant('A', g)
      await s.setGrant('B', { ...g, grantedAt: 5 })
      expect(await s.grantOf('A')).toEqual(g)
      await s.setGrant('A', { routingDid: 'did:example:mediator2', grantedAt: 7 })
      expect(await s.grantOf('A')).toEqual({ routingDid: 'did:example:mediator2', grantedAt: 7 })
      await s.addKeys('A', ['ka1', 'ka2'])
      await s.addKeys('B', ['kb1'])
      const bm = msg('B')
      await s.enqueue(msg('A'))
      await s.enqueue(bm)
      await s.setGrant('A', null)
      expect(await s.grantOf('A')).toBeNull()
      expect(await s.keysOf('A')).toEqual([])
      expect(await s.clientOfKey('ka1')).toBeNull()
      expect(await s.count('A')).toEqual({ messages: 0, bytes: 0 })
      expect(await s.grantOf('B')).toEqual({ ...g, grantedAt: 5 })
      expect(await s.keysOf('B')).toEqual(['kb1'])
      expectMessages(await s.peek('B', 10), [bm])
      await s.setGrant('nobody', null)
    })

    it('routes keys to the client that registered them; another client can neither take nor remove them', {
      timeout,
    }, async () => {
      const s = await fresh()
      await s.addKeys('A', ['k1', 'k2', 'did:peer:2.Ez6LS#key-1'])
      await s.addKeys('A', ['k1'])
      expect((await s.keysOf('A')).sort()).toEqual(['did:peer:2.Ez6LS#key-1', 'k1', 'k2'])
      expect(await s.clientOfKey('k2')).toBe('A')
      await s.removeKeys('B', ['k1'])
      expect(await s.clientOfKey('k1')).toBe('A')
      await s.addKeys('B', ['k2', 'k3'])
      expect(await s.clientOfKey('k2')).toBe('A')
      expect(await s.keysOf('B')).toEqual(['k3'])
      await s.removeKeys('A', ['k1', 'unknown'])
      expect(await s.clientOfKey('k1')).toBeNull()
      await s.addKeys('B', ['k1'])
      expect(await s.clientOfKey('k1')).toBe('B')
      await s.addKeys('A', [])
      await s.removeKeys('A', [])
      expect((await s.keysOf('A')).sort()).toEqual(['did:peer:2.Ez6LS#key-1', 'k2'])
    })

    it('calls onEnqueued listeners after an enqueue, until unsubscribed; a throwing listener changes nothing', {
      timeout,
    }, async () => {
      const s = await fresh()
      const seen: string[] = []
      const off = s.onEnqueued((r) => seen.push(r))
      s.onEnqueued(() => {
        throw new Error('listener failure')
      })
      const m = msg('A')
      await s.enqueue(m)
      await eventually(() => seen.includes('A'))
      off()
      await s.enqueue(msg('B'))
      const after: string[] = []
      s.onEnqueued((r) => after.push(r))
      await s.enqueue(msg('C'))
      await eventually(() => after.includes('C'))
      expect(seen).not.toContain('B')
      expect(seen).not.toContain('C')
      expectMessages(await s.peek('A', 10), [m])
    })

    it('finishes writes under way on close, then refuses calls with StoreClosedError', { timeout }, async () => {
      const s = await makeStore()
      const pending = Array.from({ length: 20 }, () => s.enqueue(msg('A')))
      await s.close()
      const results = await Promise.allSettled(pending)
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
      await expect(s.enqueue(msg('A'))).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await expect(s.peek('A', 1)).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await expect(s.count('A')).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await expect(s.addKeys('A', ['k'])).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await s.close()
    })

    if (options.secondInstance) {
      const signals = options.signalsAcrossInstances ?? true
      const shares = `shares the queue between instances: enqueued by one, ${signals ? 'signalled, ' : ''}peeked and deleted by the other`
      it(shares, { timeout }, async () => {
        const one = await fresh()
        const two = await second(one)
        const seen: string[] = []
        two.onEnqueued((r) => seen.push(r))
        const m = msg('A', 1024)
        await one.enqueue(m)
        if (signals) await eventually(() => seen.includes('A'))
        expectMessages(await two.peek('A', 10), [m])
        expect(await two.delete('A', [m.id])).toBe(1)
        expect(await one.count('A')).toEqual({ messages: 0, bytes: 0 })
        await two.setGrant('A', { routingDid: 'did:example:m', grantedAt: 3 })
        await two.addKeys('A', ['ka'])
        expect(await one.clientOfKey('ka')).toBe('A')
        expect(await one.grantOf('A')).toEqual({ routingDid: 'did:example:m', grantedAt: 3 })
      })

      it('never exceeds the quota when two instances enqueue in parallel', { timeout }, async () => {
        const one = await fresh()
        const two = await second(one)
        const limits = { maxMessages: 60 }
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? one : two).enqueue(msg('A', 10), limits)),
        )
        expect(results.filter((r) => r.status === 'fulfilled').length).toBe(60)
        expect(await one.count('A')).toEqual({ messages: 60, bytes: 600 })
      })
    }
  })
}

function expectMessages(got: QueuedMessage[], want: QueuedMessage[]): void {
  expect(got.map((m) => m.id)).toEqual(want.map((m) => m.id))
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as QueuedMessage
    const w = want[i] as QueuedMessage
    expect({ recipient: g.recipient, receivedAt: g.receivedAt, expiresAt: g.expiresAt }).toEqual({
      recipient: w.recipient,
      receivedAt: w.receivedAt,
      expiresAt: w.expiresAt,
    })
    expect(g.data).toBeInstanceOf(Uint8Array)
    expect(g.data.length).toBe(w.data.length)
    expect(sameBytes(g.data, w.data)).toBe(true)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Waits for a condition; the test's own time-out fails it if it never holds (no wall-clock assert). */
async function eventually(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5))
}
