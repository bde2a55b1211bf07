import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startWebServer, webEndpointTransport } from '../../adapters/http/index.js'
import { type Agent, createAgent, createMessage, createPeerDid, didPeerResolver, MEDIA_ENCRYPTED } from '../../src/index.js'

const BASIC = 'https://didcomm.org/basicmessage/2.0/message'
const basic = (content: string) => createMessage({ type: BASIC, body: { content } })

async function next(agent: Agent): Promise<{ content: unknown; returnRoute: unknown; from?: string }> {
  for await (const { message } of agent.messages()) {
    return { content: message.body?.content, returnRoute: message.return_route, from: message.from }
  }
  throw new Error('agent closed')
}

/** An agent listening at its own HTTP+WS server, and its endpoint URIs. */
async function listeningAgent(
  o: { maxBytes?: number; ws?: boolean; onRefused?: (r: { status: number; reason: string }) => void } = {},
) {
  const t = await webEndpointTransport({ listen: { maxBytes: o.maxBytes, onRefused: o.onRefused } })
  const server = t.server as NonNullable<typeof t.server>
  const id = createPeerDid({ service: { uri: o.ws ? server.wsUrl : server.url } })
  const agent = createAgent({ identity: id, resolver: didPeerResolver, transports: [t] })
  agent.messages() // starts receiving: bad envelopes are refused whether or not anyone reads yet
  return { agent, server, did: id.did }
}

async function clientAgent() {
  return createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [await webEndpointTransport()] })
}

function rawSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
}

describe('DIDComm over HTTP', () => {
  it('a message POSTed to an http:// endpoint arrives; the server answers 202', async () => {
    const bob = await listeningAgent()
    const alice = await clientAgent()
    try {
      const arrived = next(bob.agent)
      const r = await alice.send(basic('over http'), { to: bob.did })
      expect(r.uri).toBe(bob.server.url)
      expect(r.report.confirmed).toBe(true)
      expect(await arrived).toMatchObject({ content: 'over http', from: alice.did })
    } finally {
      await alice.close()
      await bob.agent.close()
    }
  })

  it('return_route all: the answer comes back in the HTTP response body', async () => {
    const bob = await listeningAgent()
    const alice = await clientAgent() // no endpoint at all: only the response can reach it
    try {
      void (async () => {
        for await (const { message } of bob.agent.messages()) {
          await bob.agent.send(createMessage({ type: BASIC, thid: message.id, body: { content: 'answer' } }), {
            to: message.from as string,
          })
        }
      })()
      const answer = next(alice)
      const r = await alice.send(basic('question'), { to: bob.did, returnRoute: 'all' })
      expect(r.uri).toBe(bob.server.url)
      expect(await answer).toMatchObject({ content: 'answer', from: bob.did })
    } finally {
      await alice.close()
      await bob.agent.close()
    }
  })

  it('refuses an oversized body with 413, another media type with 415, non-JSON with 400, and keeps serving', async () => {
    const refusals: number[] = []
    const bob = await listeningAgent({ maxBytes: 4096, onRefused: (r) => refusals.push(r.status) })
    const alice = await clientAgent()
    try {
      const post = (body: string, type = MEDIA_ENCRYPTED) =>
        fetch(bob.server.url, { method: 'POST', headers: { 'content-type': type }, body })
      const big = await post(JSON.stringify({ protected: 'x'.repeat(10_000) }))
      expect(big.status).toBe(413)
      expect(await big.json()).toMatchObject({ error: 'ERR_MESSAGE_TOO_LARGE' })
      const wrong = await post('{}', 'text/plain')
      expect(wrong.status).toBe(415)
      expect((await wrong.json()).message).toMatch(/not a DIDComm media type/)
      const garbage = await post('{"protected": ')
      expect(garbage.status).toBe(400)
      expect((await garbage.json()).message).toMatch(/not a JSON object/)
      const notOurs = await post(JSON.stringify({ ciphertext: 'AAAA', protected: 'e30', recipients: [], iv: 'AA', tag: 'AA' }))
      expect(notOurs.status).toBe(400)
      expect((await notOurs.json()).error).toMatch(/^ERR_DIDCOMM_/)
      expect((await fetch(bob.server.url)).status).toBe(405)
      expect(refusals).toEqual([413, 415, 400, 400, 405])
      // still up: a real message goes through
      const arrived = next(bob.agent)
      await alice.send(basic('still here'), { to: bob.did })
      expect((await arrived).content).toBe('still here')
    } finally {
      await alice.close()
      await bob.agent.close()
    }
  })

  it('an unreachable endpoint fails at once, naming it', async () => {
    const bob = await listeningAgent()
    const url = bob.server.url
    await bob.agent.close() // the server is gone
    const alice = await clientAgent()
    try {
      await expect(alice.send(basic('anyone?'), { to: bob.did })).rejects.toThrow(url)
    } finally {
      await alice.close()
    }
  })
})

describe('DIDComm over WebSocket', () => {
  it('one envelope per text frame, duplex: the answer comes back on the open socket (return_route)', async () => {
    const bob = await listeningAgent({ ws: true })
    const alice = await clientAgent()
    try {
      void (async () => {
        for await (const { message } of bob.agent.messages()) {
          for (const n of [1, 2])
            await bob.agent.send(createMessage({ type: BASIC, thid: message.id, body: { content: `answer ${n}` } }), {
              to: message.from as string,
            })
        }
      })()
      const it = alice.messages()[Symbol.asyncIterator]()
      const r = await alice.send(basic('over ws'), { to: bob.did, returnRoute: 'all' })
      expect(r.uri).toBe(bob.server.wsUrl)
      expect((await it.next()).value?.message.body?.content).toBe('answer 1')
      expect((await it.next()).value?.message.body?.content).toBe('answer 2')
    } finally {
      await alice.close()
      await bob.agent.close()
    }
  })

  it('garbage on a socket closes that socket with a reason; the server keeps serving', async () => {
    const refusals: string[] = []
    const bob = await listeningAgent({ ws: true, maxBytes: 4096, onRefused: (r) => refusals.push(r.reason) })
    const alice = await clientAgent()
    try {
      const s1 = await rawSocket(bob.server.wsUrl)
      const c1 = closeOf(s1)
      s1.send('this is not json')
      expect(await c1).toEqual({ code: 1007, reason: 'not a JSON object (a DIDComm envelope)' })
      const s2 = await rawSocket(bob.server.wsUrl)
      const c2 = closeOf(s2)
      s2.send(new Uint8Array([1, 2, 3]))
      expect((await c2).code).toBe(1003)
      const s3 = await rawSocket(bob.server.wsUrl)
      const c3 = closeOf(s3)
      s3.send(JSON.stringify({ ciphertext: 'AAAA', protected: 'e30', recipients: [], iv: 'AA', tag: 'AA' }))
      expect(await c3).toMatchObject({ code: 1008, reason: expect.stringMatching(/^ERR_DIDCOMM_/) })
      const s4 = await rawSocket(bob.server.wsUrl)
      const c4 = closeOf(s4)
      s4.on('error', () => undefined)
      s4.send(JSON.stringify({ protected: 'x'.repeat(10_000) }))
      expect((await c4).code).toBe(1009)
      expect(refusals.length).toBeGreaterThanOrEqual(4)
      const arrived = next(bob.agent)
      await alice.send(basic('still here'), { to: bob.did })
      expect((await arrived).content).toBe('still here')
    } finally {
      await alice.close()
      await bob.agent.close()
    }
  })

  it('keep-alive: a socket that stops answering pings is dropped; the server keeps serving', async () => {
    const server = await startWebServer({ pingIntervalMs: 50 })
    try {
      const silent = new WebSocket(server.wsUrl, { autoPong: false })
      await new Promise((r) => silent.once('open', r))
      const code = await new Promise<number>((r) => silent.once('close', (c) => r(c)))
      expect(code).toBe(1006) // terminated, no close frame
      const alive = await rawSocket(server.wsUrl)
      const got = server.incoming()[Symbol.asyncIterator]().next()
      alive.send(JSON.stringify({ still: 'here' }))
      expect(new TextDecoder().decode((await got).value?.data)).toBe('{"still":"here"}')
      alive.close()
    } finally {
      await server.close()
    }
  })

  it('a kept socket reopens with backoff after the server comes back on the same port', async () => {
    const first = await startWebServer()
    const port = first.port
    const client = await webEndpointTransport({ client: { backoff: { baseMs: 20, maxMs: 200 } } })
    let opens = 0
    let reopened!: () => void
    const second = new Promise<void>((resolve) => {
      reopened = resolve
    })
    const release = client.keepOpen(first.wsUrl, () => {
      if (++opens === 2) reopened()
    })
    try {
      await client.send(first.wsUrl, JSON.stringify({ hello: 1 }))
      await first.close()
      const again = await startWebServer({ port })
      try {
        await second
        const got = again.incoming()[Symbol.asyncIterator]().next()
        await client.send(again.wsUrl, JSON.stringify({ hello: 2 }))
        expect(new TextDecoder().decode((await got).value?.data)).toBe('{"hello":2}')
        expect(opens).toBe(2)
      } finally {
        release()
        await client.close()
        await again.close()
      }
    } finally {
      await first.close().catch(() => undefined)
    }
  })
})
