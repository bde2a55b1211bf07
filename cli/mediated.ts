import { webEndpointTransport } from '../adapters/http/index.js'
import { useMediator } from '../src/agent/mediation.js'
import type { SeenIds } from '../src/agent/seen.js'
import { type Agent, type AgentPolicy, createAgent } from '../src/agent.js'
import type { DIDDocument } from '../src/did/document.js'
import { endpointOf } from '../src/didcomm/pack.js'
import { loadIdentity, resolverWith } from './identity.js'

/**
 * An agent that is offline most of the time: mediation from `mediatorDid` over HTTP, its DID
 * registered there, then what waits is picked up — live over the mediator's ws:// endpoint when it
 * has one, else by polling. Closing the agent stops the pickup.
 */
export async function mediatedAgent(
  identityFile: string,
  mediatorDid: string,
  o: {
    policy?: AgentPolicy
    onError?: (error: unknown) => void
    pollMs: number
    info: (text: string) => void
    /** The window of ids already handed out (carrier listen keeps it across restarts). */
    seen?: SeenIds
  },
): Promise<Agent> {
  const identity = await loadIdentity(identityFile)
  const resolver = resolverWith(identity.document as DIDDocument)
  const web = await webEndpointTransport()
  const agent = createAgent({
    identity,
    resolver,
    transports: [web],
    policy: o.policy,
    onError: o.onError,
    extras: { seen: o.seen },
  })
  // a message is acknowledged (deleted at the mediator) once listen handled it (wrote it), not when
  // it was queued: a listener killed in between gets it again
  const client = await useMediator(agent, mediatorDid, { acknowledge: 'handled' })
  const doc = await resolver.resolve(mediatorDid)
  const ws = (doc?.service ?? [])
    .flatMap((s) => (Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]))
    .map((e) => (typeof e === 'string' ? e : e.uri))
    .find((u) => /^wss?:/.test(u))
  if (ws) {
    try {
      await client.live({ via: ws, keepOpen: web.keepOpen })
      o.info(`mediated by ${mediatorDid}: live pickup over ${ws}`)
      return agent
    } catch (err) {
      await client.stop()
      // the WebSocket is refused or unreachable (a balancer without upgrades, a stale endpoint): poll instead
      o.info(`live pickup over ${ws} failed (${(err as Error).message.split('\n')[0]}): polling instead`)
    }
  }
  // one pickup round at a time; each waits for the reader (acknowledged once handled), so none may
  // be awaited here, before the caller reads messages()
  let polling = false
  const poll = () => {
    if (polling) return
    polling = true
    void client
      .drain()
      .catch((e: Error) => o.info(`pickup failed: ${e.message}`))
      .finally(() => {
        polling = false
      })
  }
  const timer = setInterval(poll, o.pollMs)
  const close = agent.close.bind(agent)
  agent.close = async () => {
    clearInterval(timer)
    await close()
  }
  poll()
  o.info(`mediated by ${mediatorDid}: polling ${await endpointOf(mediatorDid, resolver)} every ${o.pollMs} ms`)
  return agent
}
