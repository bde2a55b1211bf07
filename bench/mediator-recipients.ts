import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { webEndpointTransport } from '../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../src/agent/mediation.js'
import { type Agent, createAgent, didPeerResolver } from '../src/index.js'

/**
 * Recipients live over WebSocket in a process of their own (the mediator's process measures only
 * the mediator): real agents with live pickup, each noting when a message came out of messages()
 * (performance.timeOrigin + now, ms), by the `seq` in its body.
 */
export async function startRecipients(mediatorDid: string, sessions: number, wsUrl: string) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [mediatorDid, String(sessions), wsUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [ready] = (await once(child, 'message')) as [{ dids: string[] }]
  return {
    dids: ready.dids,
    /** When each seq 0…total-1 arrived (NaN: not within 30 s of the last one that did). */
    async collect(total: number): Promise<number[]> {
      child.send({ collect: total })
      const [answer] = (await once(child, 'message')) as [{ arrived: (number | null)[] }]
      return answer.arrived.map((t) => t ?? Number.NaN)
    },
    async close() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

async function child(mediatorDid: string, sessions: number, wsUrl: string): Promise<void> {
  const arrived = new Map<number, number>()
  let changed = () => {}
  const agents: Agent[] = []
  for (let i = 0; i < sessions; i++) {
    const web = await webEndpointTransport()
    const agent = createAgent({ identity: createRoutedPeerDid(mediatorDid), resolver: didPeerResolver, transports: [web] })
    const client = await useMediator(agent, mediatorDid)
    await client.live({ via: wsUrl, keepOpen: web.keepOpen })
    agents.push(agent)
    void (async () => {
      for await (const { message } of agent.messages()) {
        const seq = Number(message.body?.seq)
        if (Number.isInteger(seq) && seq >= 0) arrived.set(seq, performance.timeOrigin + performance.now())
        changed()
      }
    })()
  }
  process.send?.({ dids: agents.map((a) => a.did) })
  process.on('message', async (m: { collect: number }) => {
    // every one, or 30 s without a new one
    while (arrived.size < m.collect) {
      const more = await Promise.race([
        new Promise<boolean>((r) => (changed = () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
      ])
      if (!more) break
    }
    process.send?.({ arrived: Array.from({ length: m.collect }, (_, i) => arrived.get(i) ?? null) })
  })
  process.once('SIGTERM', () => {
    void Promise.all(agents.map((a) => a.close())).finally(() => process.exit(0))
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [did, n, ws] = process.argv.slice(2)
  await child(did as string, Number(n), ws as string)
}
