import { describe, expect, it } from 'vitest'
import type { EndpointTransport, IncomingEnvelope } from '../../src/agent.js'
import { decryptJwe } from '../../src/didcomm/jwe.js'
import { createAgent, createMessage, createPeerDid, didPeerResolver, MEDIA_ENCRYPTED, packEncrypted } from '../../src/index.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'

/** A transport that only brings what the test pushes (the core's unit level: no channel involved). */
function pushedTransport() {
  const q = new AsyncQueue<IncomingEnvelope>()
  const t: EndpointTransport = {
    schemes: ['test:'],
    send: async () => {
      throw new Error('not for sending')
    },
    incoming: () => q.iterate(),
    close: async () => q.close(),
  }
  return { t, push: (e: IncomingEnvelope) => q.push(e) }
}

describe('agent: envelopes are opened ahead, handled in arrival order', () => {
  it('a later envelope that opens first still comes out after the earlier ones', async () => {
    const me = createPeerDid()
    const { t, push } = pushedTransport()
    let opening = 0
    let inFlight = 0
    let mostInFlight = 0
    // the first envelopes take longest to open: unpacked in parallel, they finish in reverse
    const decrypt: typeof decryptJwe = async (jwe, o) => {
      const delay = 40 - 4 * opening++
      mostInFlight = Math.max(mostInFlight, ++inFlight)
      await new Promise((r) => setTimeout(r, Math.max(0, delay)))
      inFlight--
      return decryptJwe(jwe, o)
    }
    const agent = createAgent({ identity: me, resolver: didPeerResolver, transports: [t], extras: { decrypt } })
    const done: (string | undefined)[] = []
    try {
      for (let i = 0; i < 10; i++) {
        const m = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: `#${i}` } })
        const { packed } = await packEncrypted(m, { to: me.did, resolver: didPeerResolver, secrets: { get: async () => null } })
        push({
          data: new TextEncoder().encode(packed),
          mediaType: MEDIA_ENCRYPTED,
          transferId: String(i),
          done: (err) => done.push(err === undefined ? String(i) : String(err)),
        })
      }
      const got: string[] = []
      for await (const { message } of agent.messages()) if (got.push(String(message.body?.content)) === 10) break
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `#${i}`))
      expect(done).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
      // they were opened together, not one after another
      expect(mostInFlight).toBeGreaterThan(1)
    } finally {
      await agent.close()
    }
  })
})
