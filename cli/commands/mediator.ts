import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { type Command, Option } from 'commander'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { makeMqttEndpoint, mqttEndpointTransport, newInboxKey } from '../../adapters/mqtt/index.js'
import { modulesToTerminal, textToModules } from '../../adapters/qr/index.js'
import { createDecryptPool } from '../../adapters/threads/index.js'
import type { EndpointTransport } from '../../src/agent.js'
import type { PeerIdentity } from '../../src/did/peer.js'
import { createInvitation, invitationUrl } from '../../src/didcomm/oob.js'
import { createMediator, mediatorIdentity } from '../../src/mediator/mediator.js'
import { openStore } from '../../stores/index.js'
import { didTag, loadIdentity, resolverWith } from '../identity.js'
import { file, httpUrl, integer, listenAddress, mqttUri, sizeBytes, storeUri } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

/** The endpoints of a DID document's DIDCommMessaging services, in order. */
function endpointsOf(id: PeerIdentity): string[] {
  return (id.document.service ?? []).flatMap((s) => {
    const eps = Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]
    return eps.map((e) => (typeof e === 'string' ? e : e.uri))
  })
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('mediator')
    .description('run a DIDComm mediator (coordinate-mediation 2.0/3.0, pickup 3.0, forwards) over HTTP, WebSocket and MQTT')
    .option('--http <[host]:port>', 'serve HTTP POST here', listenAddress, listenAddress(':8080'))
    .option('--ws', 'serve WebSocket on the same port too (live pickup)', false)
    .option('--mqtt <broker>', 'also take envelopes at an inbox on this MQTT broker (mqtt://host:1883)', mqttUri)
    .option(
      '--store <uri>',
      'memory: (lost on exit), sqlite:FILE (survives kill -9) or postgres://… (shared by instances)',
      storeUri,
      'memory:',
    )
    .option('--public-url <url>', 'the HTTP URL clients reach us by (default http://127.0.0.1:<port>/)', httpUrl)
    .option('--identity <file>', 'keep the mediator DID here (created on first start with our endpoints)', file)
    .option('--max-bytes <n>', 'largest envelope taken', sizeBytes, 1 << 20)
    .addOption(
      new Option('--threads <n>', 'threads that open forwards beside the main thread (0: none)')
        .argParser(integer(0, 64, 'a thread count'))
        .default(Math.max(0, availableParallelism() - 1), 'one less than the cores'),
    )
    .action(
      async (o: {
        http: { host: string; port: number }
        ws: boolean
        mqtt?: string
        store: string
        publicUrl?: string
        identity?: string
        maxBytes: number
        threads: number
      }) => {
        const { host, port } = o.http
        const store = await openStore(o.store)
        const web = await webEndpointTransport({ listen: { host, port, ws: o.ws, maxBytes: o.maxBytes } })
        const server = web.server as NonNullable<typeof web.server>
        const httpUrl = o.publicUrl ?? `http://127.0.0.1:${server.port}/`
        let identity: PeerIdentity | undefined = o.identity && existsSync(o.identity) ? await loadIdentity(o.identity) : undefined
        const saved = identity ? endpointsOf(identity).find((e) => /^mqtts?:/.test(e)) : undefined
        const mqttEndpoint = saved ?? (o.mqtt ? makeMqttEndpoint(o.mqtt, newInboxKey()) : undefined)
        if (!identity) {
          const endpoints = [httpUrl, ...(o.ws ? [httpUrl.replace(/^http/, 'ws')] : []), ...(mqttEndpoint ? [mqttEndpoint] : [])]
          identity = mediatorIdentity(endpoints)
          if (o.identity) await writeFile(o.identity, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 })
        }
        const transports: EndpointTransport[] = [web]
        if (o.mqtt && mqttEndpoint)
          transports.push(
            await mqttEndpointTransport({ endpoint: mqttEndpoint, clientId: `carrier-mediator-${didTag(identity.did)}` }),
          )
        const pool = o.threads > 0 ? createDecryptPool({ secrets: identity.secrets, threads: o.threads }) : undefined
        const mediator = createMediator({
          identity,
          store,
          decrypt: pool?.decrypt,
          resolver: resolverWith(identity.document),
          transports,
          onError: (e) => ctx.out.info(`refused: ${(e as Error).message}`),
        })
        const invitation = createInvitation({ from: mediator.did, goalCode: 'request-mediate', goal: 'Mediation' })
        const url = invitationUrl(invitation)
        ctx.out.result(mediator.did, {
          command: 'mediator',
          did: mediator.did,
          endpoints: endpointsOf(identity),
          invitation: url,
          store: o.store,
          threads: o.threads,
        })
        ctx.out.info(`endpoints: ${endpointsOf(identity).join(' ')}\nstore: ${o.store}\ninvitation: ${url}`)
        if (!ctx.out.json) {
          try {
            ctx.out.info(modulesToTerminal(textToModules(url, { ecc: 'L' })))
          } catch {
            ctx.out.info('(the invitation is too long for one QR code: use the URL)')
          }
        }
        await untilSignal()
        await mediator.close()
        await pool?.close()
        await store.close()
      },
    )
}
