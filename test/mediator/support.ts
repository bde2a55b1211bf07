import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createRoutedPeerDid } from '../../src/agent/mediation.js'
import { createAgent, createMessage, didPeerResolver, type EndpointTransport } from '../../src/index.js'
import { createMediator, type MediatorLimits, MemoryMessageStore, mediatorIdentity } from '../../src/mediator/index.js'

export const BASIC = 'https://didcomm.org/basicmessage/2.0/message'
export const basic = (content: string) => createMessage({ type: BASIC, body: { content } })

/** A mediator on loopback HTTP + WS (plus whatever other transports), with a memory store. */
export async function startMediator(
  o: { limits?: MediatorLimits; more?: { transport: EndpointTransport; endpoint: string }[] } = {},
) {
  const web = await webEndpointTransport({ listen: {} })
  const server = web.server as NonNullable<typeof web.server>
  const identity = mediatorIdentity([server.url, server.wsUrl, ...(o.more ?? []).map((m) => m.endpoint)])
  const store = new MemoryMessageStore()
  const errors: unknown[] = []
  const mediator = createMediator({
    identity,
    store,
    resolver: didPeerResolver,
    transports: [web, ...(o.more ?? []).map((m) => m.transport)],
    limits: o.limits,
    onError: (e) => errors.push(e),
  })
  return { mediator, store, server, web, errors, did: identity.did }
}

/** A toolkit agent whose DID routes through `mediatorDid`, reaching the world over HTTP/WS. */
export async function routedAgent(mediatorDid: string) {
  const web = await webEndpointTransport({ client: { backoff: { baseMs: 20, maxMs: 200 } } })
  const identity = createRoutedPeerDid(mediatorDid)
  return { agent: createAgent({ identity, resolver: didPeerResolver, transports: [web] }), web, did: identity.did }
}

/** An agent with no endpoint at all (a sender). */
export async function sender() {
  const { createPeerDid } = await import('../../src/index.js')
  return createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [await webEndpointTransport()] })
}

const CLI = ['--import', 'tsx', 'cli/entry.ts']

/** `carrier mediator …` as a process of its own, once it printed its DID. */
export async function mediatorProcess(...args: string[]): Promise<{ proc: ChildProcess; did: string }> {
  const proc = spawn(process.execPath, [...CLI, '--json', 'mediator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d) => (stderr += d))
  const first = await new Promise<{ did: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).once('line', (l) => resolve(JSON.parse(l)))
    proc.once('exit', (code) => reject(new Error(`carrier mediator exited ${code}: ${stderr}`)))
  })
  return { proc, did: first.did }
}

/** A carrier command run to its end (not blocking the test's event loop). */
export function runCarrier(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/entry.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    p.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
