import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { staticSecrets } from '../src/did/document.js'
import { createPeerDid, didPeerResolver, packEncrypted } from '../src/index.js'
import { liveDeliveryChange } from '../src/protocols/pickup.js'
import { emit } from './lib.js'
import { benchMediator, gc } from './mediator.js'

/**
 * RSS of one mediator instance per live WebSocket session, with SESSIONS sessions at once: clients
 * in a process of their own (this file run as a child) each open a socket and ask for live
 * delivery (authcrypt live-delivery-change, answered with a status); their grants are put in the
 * store before the "before" figure, so what is measured is what a session holds (socket, ws,
 * session state). The baseline is the same process's RSS before the sessions.
 */
const SESSIONS = Number(process.env.MEDIATOR_BENCH_SESSIONS ?? 10_000)

export async function liveSessionsRss(): Promise<void> {
  const m = await benchMediator('memory:')
  let child: ChildProcess | undefined
  try {
    child = fork(fileURLToPath(import.meta.url), [m.identity.did, m.server.wsUrl, String(SESSIONS)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const [clients] = (await once(child, 'message')) as [{ dids: string[] }]
    for (const did of clients.dids) await m.store.setGrant(did, { routingDid: m.identity.did, grantedAt: Date.now() })
    gc()
    await new Promise((r) => setTimeout(r, 200))
    gc()
    const before = process.memoryUsage()
    const started = performance.now()
    child.send({ go: true })
    const [opened] = (await once(child, 'message')) as [{ answered: number }]
    const seconds = (performance.now() - started) / 1000
    const live = m.mediator.liveClients().length
    gc()
    await new Promise((r) => setTimeout(r, 200))
    gc()
    const after = process.memoryUsage()
    emit({
      name: `mediator RSS per live WebSocket session (${SESSIONS.toLocaleString('en')} sessions on one instance)`,
      value: (after.rss - before.rss) / live / 1024,
      unit: 'KiB',
      baseline: { name: 'the mediator process RSS before the sessions (MiB)', value: before.rss / 2 ** 20 },
      ratio: after.rss / before.rss,
      params: {
        sessions: SESSIONS,
        live,
        answered: opened.answered,
        rssBeforeMiB: Math.round(before.rss / 2 ** 20),
        rssAfterMiB: Math.round(after.rss / 2 ** 20),
        heapPerSessionKiB: Math.round(((after.heapUsed - before.heapUsed) / live / 1024) * 10) / 10,
        secondsToOpenAll: Math.round(seconds * 10) / 10,
      },
    })
  } finally {
    child?.kill('SIGTERM')
    if (child && child.exitCode === null) await once(child, 'exit')
    await m.close()
  }
}

/** The clients: SESSIONS identities, their live-delivery-change packed, sockets opened 200 at a time. */
async function clients(mediatorDid: string, wsUrl: string, n: number): Promise<void> {
  const asks: string[] = []
  const dids: string[] = []
  for (let i = 0; i < n; i++) {
    const id = createPeerDid()
    dids.push(id.did)
    asks.push(
      (
        await packEncrypted(
          { ...liveDeliveryChange(true), from: id.did, to: [mediatorDid], return_route: 'all' },
          { to: mediatorDid, from: id.did, resolver: didPeerResolver, secrets: staticSecrets(id.secrets) },
        )
      ).packed,
    )
  }
  process.send?.({ dids })
  await once(process, 'message')
  const sockets: WebSocket[] = []
  let answered = 0
  let next = 0
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < n) {
        const ask = asks[next++] as string
        const ws = new WebSocket(wsUrl)
        sockets.push(ws)
        await once(ws, 'open')
        ws.send(ask)
        await once(ws, 'message') // the status: the session is live
        answered++
      }
    }),
  )
  process.send?.({ answered })
  process.once('SIGTERM', () => {
    for (const ws of sockets) ws.terminate()
    process.exit(0)
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [did, ws, n] = process.argv.slice(2)
  await clients(did as string, ws as string, Number(n))
}
