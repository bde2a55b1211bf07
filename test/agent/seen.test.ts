import { describe, expect, it } from 'vitest'
import { SeenIds } from '../../src/agent/seen.js'
import type { EndpointTransport } from '../../src/agent.js'
import { createAgent, createMessage, createPeerDid, didPeerResolver, packEncrypted, staticSecrets } from '../../src/index.js'

describe('SeenIds: the window of message ids already handed out', () => {
  it('drops a second copy, counts it, and is bounded in count (oldest first) and age', () => {
    let now = 1000
    const seen = new SeenIds({ max: 3, ttlMs: 100, now: () => now })
    expect(seen.isDuplicate('a')).toBe(false)
    seen.add('a')
    expect(seen.isDuplicate('a')).toBe(true)
    expect(seen.dropped).toBe(1)
    for (const id of ['b', 'c', 'd']) seen.add(id)
    expect(seen.size).toBe(3)
    expect(seen.has('a')).toBe(false) // the oldest went
    now += 100
    expect(seen.has('d')).toBe(false) // too old
    expect(seen.entries()).toEqual([])
  })

  it('survives a round trip through JSON and skips malformed or expired entries', () => {
    let now = 5000
    const seen = new SeenIds({ ttlMs: 1000, now: () => now })
    seen.add('x')
    now += 10
    seen.add('y')
    const json = JSON.parse(JSON.stringify(seen.entries()))
    expect(json).toEqual([
      ['x', 5000],
      ['y', 5010],
    ])
    const back = SeenIds.from([...json, ['bad'], 42, ['old', 1], [7, 7]], { ttlMs: 1000, now: () => now })
    expect(back.entries()).toEqual(json)
    expect(SeenIds.from('not an array').size).toBe(0)
  })

  it('an agent hands a message delivered twice to the application once, and a window given to it keeps the ids', async () => {
    const me = createPeerDid()
    const them = createPeerDid()
    const seen = new SeenIds()
    const envelopes: { push: (e: string) => void } = { push: () => {} }
    const transport: EndpointTransport = {
      schemes: ['test:'],
      send: async () => {
        throw new Error('not used')
      },
      incoming: () => ({
        [Symbol.asyncIterator]() {
          const queued: string[] = []
          let wake: (() => void) | undefined
          envelopes.push = (e) => {
            queued.push(e)
            wake?.()
          }
          return {
            async next() {
              while (queued.length === 0) await new Promise<void>((r) => (wake = r))
              return {
                done: false,
                value: {
                  data: new TextEncoder().encode(queued.shift()),
                  mediaType: 'application/didcomm-encrypted+json',
                  transferId: 'x',
                },
              }
            },
          }
        },
      }),
      close: async () => {},
    }
    const agent = createAgent({ identity: me, resolver: didPeerResolver, transports: [transport], extras: { seen } })
    const it = agent.messages()[Symbol.asyncIterator]()
    const m = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'once' } })
    const pack = async () =>
      (
        await packEncrypted(
          { ...m, from: them.did, to: [me.did] },
          { to: me.did, from: them.did, resolver: didPeerResolver, secrets: staticSecrets(them.secrets), forward: false },
        )
      ).packed
    const m2 = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'next' } })
    const pack2 = async () =>
      (
        await packEncrypted(
          { ...m2, from: them.did, to: [me.did] },
          { to: me.did, from: them.did, resolver: didPeerResolver, secrets: staticSecrets(them.secrets), forward: false },
        )
      ).packed
    envelopes.push(await pack())
    envelopes.push(await pack()) // the same message again, packed anew (as a redelivery is)
    envelopes.push(await pack2())
    expect((await it.next()).value.message.body.content).toBe('once')
    expect((await it.next()).value.message.body.content).toBe('next')
    expect(seen.dropped).toBe(1)
    expect(seen.has(`${them.did}|${m.id}`)).toBe(true)
    await agent.close()
  })
})
