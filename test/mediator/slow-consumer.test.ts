import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { useMediator } from '../../src/agent/mediation.js'
import { staticSecrets } from '../../src/did/document.js'
import { didPeerResolver, packEncrypted } from '../../src/index.js'
import { liveDeliveryChange } from '../../src/protocols/pickup.js'
import { basic, routedAgent, sender, startMediator } from './support.js'

const until = async (cond: () => boolean | Promise<boolean>) => {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 10))
}

describe('live delivery: a slow consumer gets back-pressure, not an unbounded buffer', () => {
  it('a client that stops reading its socket is sent at most its window; the rest waits in the store, and nothing is lost', async () => {
    const WINDOW = 20
    const POSTED = 120
    const m = await startMediator({ limits: { liveWindowMessages: WINDOW } })
    const carol = await routedAgent(m.did)
    const dave = await routedAgent(m.did)
    const alice = await sender()
    let raw: WebSocket | undefined
    try {
      const carolClient = await useMediator(carol.agent, m.did)
      const daveClient = await useMediator(dave.agent, m.did)
      // carol asks for live delivery on a socket of her own, then stops reading it (a stalled phone)
      raw = new WebSocket(m.server.wsUrl)
      await new Promise((r, j) => raw?.once('open', r).once('error', j))
      const ask = await packEncrypted(
        { ...liveDeliveryChange(true), from: carol.did, to: [m.did], return_route: 'all' },
        { to: m.did, from: carol.did, resolver: didPeerResolver, secrets: staticSecrets(carol.agent.identity.secrets) },
      )
      raw.send(ask.packed)
      await until(() => m.mediator.liveClients().includes(carol.did))
      raw.pause()
      // dave reads his socket as he should
      const daveGot: unknown[] = []
      const daveReading = (async () => {
        for await (const { message } of dave.agent.messages()) if (daveGot.push(message.body?.content) === 10) return
      })()
      await daveClient.live({ via: m.server.wsUrl, keepOpen: dave.web.keepOpen })

      for (let i = 0; i < POSTED; i++) {
        await alice.send(basic(`carol ${i}`), { to: carol.did })
        if (i < 10) await alice.send(basic(`dave ${i}`), { to: dave.did })
      }
      // dave is served while carol's session is stalled
      await daveReading
      expect(daveGot).toEqual(Array.from({ length: 10 }, (_, i) => `dave ${i}`))
      // carol's window filled and stayed at its bound: every message accepted, the rest in the store
      await until(() => (m.mediator.liveWindow(carol.did)?.messages ?? 0) >= WINDOW)
      await new Promise((r) => setTimeout(r, 300)) // later enqueues and sweeps add nothing to a full window
      expect(m.mediator.liveWindow(carol.did)?.messages).toBe(WINDOW)
      expect((await m.store.count(carol.did)).messages).toBe(POSTED)

      // the stalled socket goes; carol picks up: every message, each once, from the store
      raw.terminate()
      const got: unknown[] = []
      const reading = (async () => {
        for await (const { message } of carol.agent.messages()) if (got.push(message.body?.content) === POSTED) return
      })()
      await carolClient.drain({ limit: 50 })
      await reading
      expect(got).toEqual(Array.from({ length: POSTED }, (_, i) => `carol ${i}`))
      expect((await m.store.count(carol.did)).messages).toBe(0)
    } finally {
      raw?.terminate()
      await alice.close()
      await carol.agent.close()
      await dave.agent.close()
      await m.mediator.close()
    }
  })
})
