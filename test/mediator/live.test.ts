import { describe, expect, it } from 'vitest'
import { LiveSessions } from '../../src/mediator/live.js'
import { MemoryMessageStore } from '../../src/mediator/memory-store.js'
import type { SendReport } from '../../src/transport.js'

/** What a link reports for a send: only its size matters here. */
const sent = (packed: string): SendReport => ({
  transferId: 't',
  envelopeBytes: packed.length,
  streamBytes: packed.length,
  compressed: false,
  frames: 1,
  retransmissions: 0,
  confirmed: true,
  durationMs: 0,
})

const queued = (id: string) => ({
  id,
  recipient: 'did:example:carol',
  data: new TextEncoder().encode(`{"id":"${id}"}`),
  receivedAt: Date.now(),
  expiresAt: Date.now() + 60_000,
})

/** Resolves after `depth` microtask turns. */
async function microtasks(depth: number): Promise<void> {
  for (let i = 0; i < depth; i++) await Promise.resolve()
}

describe('live delivery (pickup 3.0 live mode): no trigger is lost', () => {
  // A delivery triggered in the few microtask turns between a run's last look at its triggers and
  // the run's end was folded into a run that no longer existed: the message waited for a trigger
  // that never came (the bench's "stalled" live step). Every depth of that window is tried.
  for (let depth = 0; depth <= 12; depth++)
    it(`a message queued ${depth} microtask turns after a delivery was sent goes out too`, async () => {
      const store = new MemoryMessageStore()
      const delivered: string[][] = []
      let second: Promise<void> | undefined
      const live = new LiveSessions({
        store,
        maxDelivery: 10,
        lingerMs: 0,
        pack: async (_client, envelopes) => JSON.stringify(envelopes.map((e) => e.id)),
      })
      const both = new Promise<void>((resolve) => {
        live.start('did:example:carol', async (packed) => {
          delivered.push(JSON.parse(packed) as string[])
          if (delivered.length === 1)
            second = microtasks(depth).then(async () => {
              await store.enqueue(queued('b'))
              void live.deliver('did:example:carol')
            })
          if (delivered.flat().includes('b')) resolve()
          return sent(packed)
        })
      })
      await store.enqueue(queued('a'))
      await live.deliver('did:example:carol')
      await second
      await both
      expect(delivered.flat()).toEqual(['a', 'b'])
      live.close()
      await store.close()
    })

  it('an acknowledgement that overtakes the send does not leave the message marked as sent', async () => {
    const store = new MemoryMessageStore()
    const peeked: number[] = []
    const peek = store.peek.bind(store)
    store.peek = (recipient, limit) => {
      peeked.push(limit)
      return peek(recipient, limit)
    }
    const live = new LiveSessions({ store, maxDelivery: 1, lingerMs: 0, pack: async (_c, e) => e.map((x) => x.id).join() })
    const sends: string[] = []
    live.start('did:example:carol', async (packed) => {
      sends.push(packed)
      // the client's messages-received arrives before the socket reports the write done
      await store.delete('did:example:carol', [packed])
      live.acknowledged('did:example:carol', [packed])
      return sent(packed)
    })
    for (const id of ['a', 'b', 'c']) await store.enqueue(queued(id))
    for (let i = 0; i < 3; i++) await live.deliver('did:example:carol')
    expect(sends).toEqual(['a', 'b', 'c'])
    // nothing is held as "sent, unacknowledged": every look into the store is for one fresh message
    await store.enqueue(queued('d'))
    await live.deliver('did:example:carol')
    expect(sends).toEqual(['a', 'b', 'c', 'd'])
    expect(peeked.length).toBeGreaterThanOrEqual(4)
    expect(peeked.every((limit) => limit === 1)).toBe(true)
    live.close()
    await store.close()
  })

  it('a backlog larger than one delivery goes out whole as the client acknowledges, with nothing more enqueued', async () => {
    // queued while the client was away (its instance died): 250 wait, 100 go per delivery; the
    // enqueues that triggered deliveries are over, only the acknowledgements are left to move it
    const store = new MemoryMessageStore()
    const live = new LiveSessions({
      store,
      maxDelivery: 100,
      lingerMs: 0,
      pack: async (_c, e) => JSON.stringify(e.map((x) => x.id)),
    })
    for (let i = 0; i < 250; i++) await store.enqueue(queued(`m${i}`))
    const got: string[] = []
    let all: () => void = () => {}
    const done = new Promise<void>((r) => (all = r))
    live.start('did:example:carol', async (packed) => {
      const ids = JSON.parse(packed) as string[]
      got.push(...ids)
      // the client's messages-received, a little later
      setTimeout(() => {
        void store.delete('did:example:carol', ids).then(() => {
          live.acknowledged('did:example:carol', ids)
          if (got.length === 250) all()
        })
      }, 5)
      return sent(packed)
    })
    await live.deliver('did:example:carol')
    await done
    expect(new Set(got).size).toBe(250)
    expect(got).toHaveLength(250)
    expect((await store.count('did:example:carol')).messages).toBe(0)
    live.close()
    await store.close()
  })

  it('the send window in bytes: deliveries stop at the bound and go on as acknowledgements make room', async () => {
    // each queued envelope is 11 bytes ({"id":"mN"}); a 25-byte window holds two
    const store = new MemoryMessageStore()
    const live = new LiveSessions({
      store,
      maxDelivery: 100,
      maxUnackedBytes: 25,
      lingerMs: 0,
      pack: async (_c, e) => JSON.stringify(e.map((x) => x.id)),
    })
    for (let i = 0; i < 5; i++) await store.enqueue(queued(`m${i}`))
    const deliveries: string[][] = []
    live.start('did:example:carol', async (packed) => {
      deliveries.push(JSON.parse(packed) as string[])
      return sent(packed)
    })
    await live.deliver('did:example:carol')
    expect(deliveries).toEqual([['m0', 'm1']])
    expect(live.window('did:example:carol')).toEqual({ messages: 2, bytes: 22 })
    await live.deliver('did:example:carol') // an enqueue elsewhere: nothing more while the window is full
    expect(deliveries).toHaveLength(1)
    await store.delete('did:example:carol', ['m0'])
    live.acknowledged('did:example:carol', ['m0'])
    await live.deliver('did:example:carol')
    expect(deliveries).toEqual([['m0', 'm1'], ['m2']])
    live.close()
    await store.close()
  })

  it('what a session was sent and never acknowledged is sent again after the redelivery time, and deleted only when acknowledged', async () => {
    const store = new MemoryMessageStore()
    const live = new LiveSessions({
      store,
      maxDelivery: 10,
      lingerMs: 0,
      redeliverMs: 200,
      pack: async (_c, e) => e.map((x) => x.id).join(),
    })
    const sends: string[] = []
    let again: () => void = () => {}
    const resent = new Promise<void>((r) => (again = r))
    live.start('did:example:carol', async (packed) => {
      sends.push(packed)
      if (sends.length === 2) again()
      return sent(packed)
    })
    await store.enqueue(queued('a'))
    await live.deliver('did:example:carol')
    // a trigger before the time is up sends nothing twice
    await live.deliver('did:example:carol')
    expect(sends).toEqual(['a'])
    await resent // the sweep, with nothing new enqueued
    expect(sends).toEqual(['a', 'a'])
    expect((await store.count('did:example:carol')).messages).toBe(1)
    await store.delete('did:example:carol', ['a'])
    live.acknowledged('did:example:carol', ['a'])
    live.close()
    await store.close()
  })

  it('a store that fails keeps the session: the delivery is tried again and goes out', async () => {
    const store = new MemoryMessageStore()
    const peek = store.peek.bind(store)
    let failures = 2
    store.peek = (recipient, limit) => {
      if (failures-- > 0) return Promise.reject(new Error('connection terminated'))
      return peek(recipient, limit)
    }
    const errors: unknown[] = []
    const live = new LiveSessions({
      store,
      maxDelivery: 10,
      lingerMs: 0,
      retryMs: 20,
      pack: async (_c, e) => e.map((x) => x.id).join(),
      onError: (e) => errors.push(e),
    })
    let got: (packed: string) => void = () => {}
    const delivered = new Promise<string>((r) => (got = r))
    live.start('did:example:carol', async (packed) => {
      got(packed)
      return sent(packed)
    })
    await store.enqueue(queued('a'))
    await live.deliver('did:example:carol')
    expect(await delivered).toBe('a')
    expect(live.has('did:example:carol')).toBe(true)
    expect(errors).toHaveLength(2)
    live.close()
    await store.close()
  })

  it('a send that fails drops the session; the message waits for the next session, which gets it first', async () => {
    const store = new MemoryMessageStore()
    const live = new LiveSessions({ store, maxDelivery: 10, lingerMs: 0, pack: async (_c, e) => e.map((x) => x.id).join() })
    live.start('did:example:carol', async () => {
      throw new Error('the WebSocket is closed')
    })
    await store.enqueue(queued('a'))
    await live.deliver('did:example:carol')
    expect(live.has('did:example:carol')).toBe(false)
    const sends: string[] = []
    live.start('did:example:carol', async (packed) => {
      sends.push(packed)
      return sent(packed)
    })
    await live.deliver('did:example:carol')
    expect(sends).toEqual(['a'])
    live.close()
    await store.close()
  })
})
