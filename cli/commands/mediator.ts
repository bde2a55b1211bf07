import { availableParallelism } from 'node:os'
import { type Command, Option } from 'commander'
import { blobRoutes } from '../../adapters/http/blob-routes.js'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { mqttEndpointTransport } from '../../adapters/mqtt/index.js'
import { modulesToTerminal, textToModules } from '../../adapters/qr/index.js'
import { createDecryptPool } from '../../adapters/threads/index.js'
import type { EndpointTransport } from '../../src/agent.js'
import { createInvitation, invitationUrl } from '../../src/didcomm/oob.js'
import { BLOB_DEFAULTS } from '../../src/mediator/blob-access.js'
import { BlobTokens } from '../../src/mediator/blob-tokens.js'
import { createMediator, type Mediator } from '../../src/mediator/mediator.js'
import { storeAdmin } from '../../stores/admin.js'
import { blobStoreFor, openStore } from '../../stores/index.js'
import { didTag, resolverWith } from '../identity.js'
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js'
import { endpointsOf, mediatorIdentityFor, mqttEndpointAt } from '../mediator-identity.js'
import { mediatorOps } from '../mediator-ops.js'
import { file, httpUrl, integer, listenAddress, mqttUri, oneOf, sizeBytes, storeUri } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

const blobBytes = integer(1, Number.MAX_SAFE_INTEGER, 'a size in bytes')

export function register(program: Command, ctx: CliContext): void {
  program
    .command('mediator')
    .description('run a DIDComm mediator (coordinate-mediation 2.0/3.0, pickup 3.0, forwards) over HTTP, WebSocket and MQTT')
    .option(
      '--http <[host]:port>',
      'serve HTTP POST here (:PORT: every interface)',
      listenAddress,
      listenAddress('127.0.0.1:8080'),
    )
    .option('--ws', 'serve WebSocket on the same port too (live pickup)', false)
    .option('--mqtt <broker>', 'also take envelopes at an inbox on this MQTT broker (mqtt://host:1883)', mqttUri)
    .option(
      '--store <uri>',
      'memory: (lost on exit), sqlite:FILE (survives kill -9) or postgres://… (shared by instances)',
      storeUri,
      'memory:',
    )
    .option(
      '--public-url <url>',
      'the http(s) URL clients reach us by, in our DID (default http://127.0.0.1:<port>/; with --ws its ws(s) twin too)',
      httpUrl,
    )
    .option(
      '--identity <file>',
      'keep the mediator DID here (created on first start); default: with a sqlite/postgres store, in the store',
      file,
    )
    .option('--rotate-identity', 'the kept DID serves other endpoints than this start: replace it by a new one', false)
    .option('--log-level <level>', `structured logs on stderr: ${LOG_LEVELS.join(', ')}`, oneOf(LOG_LEVELS), 'info')
    .option('--max-bytes <n>', 'largest envelope taken', sizeBytes, 1 << 20)
    .option(
      '--blob-max-bytes <n>',
      'largest file (encrypted blob) taken for an offline recipient',
      blobBytes,
      BLOB_DEFAULTS.maxBlobBytes,
    )
    .option('--blob-quota <n>', 'most bytes of blobs waiting for one recipient', blobBytes, BLOB_DEFAULTS.maxBytesPerRecipient)
    .option(
      '--blob-ttl <seconds>',
      'how long a blob waits for its recipients',
      integer(1, 365 * 24 * 3600, 'seconds,'),
      BLOB_DEFAULTS.expirySeconds,
    )
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
        rotateIdentity: boolean
        logLevel: LogLevel
        maxBytes: number
        blobMaxBytes: number
        blobQuota: number
        blobTtl: number
        threads: number
      }) => {
        const { host, port } = o.http
        // a SIGTERM while starting up is a shutdown right after it, never a kill
        const stopped = untilSignal()
        const log = createLogger(o.logLevel)
        const opened = await openStore(o.store)
        const admin = storeAdmin(opened)
        let mediator: Mediator | undefined
        let draining = () => false
        const ops = await mediatorOps({
          admin,
          liveSessions: () => mediator?.liveClients().length ?? 0,
          draining: () => draining(),
        })
        const store = ops.instrument(opened)
        const blobs = blobStoreFor(opened)
        const blobLimits = { maxBlobBytes: o.blobMaxBytes, maxBytesPerRecipient: o.blobQuota, expirySeconds: o.blobTtl }
        let tokens: BlobTokens | undefined
        const blobRoute = blobRoutes({
          store: blobs,
          tokens: () => tokens,
          limits: blobLimits,
          onRefused: (r) => {
            ops.refused({ transport: 'http', code: r.code })
            log.debug('refused', r)
          },
        })
        let web: Awaited<ReturnType<typeof webEndpointTransport>>
        try {
          web = await webEndpointTransport({
            listen: {
              host,
              port,
              ws: o.ws,
              maxBytes: o.maxBytes,
              routes: async (req, res) => (await blobRoute(req, res)) || ops.routes(req, res),
              onRefused: (r) => {
                ops.refused(r)
                log.debug('refused', r)
              },
              onAnswered: ops.answered,
            },
          })
        } catch (err) {
          await opened.close()
          throw err
        }
        const server = web.server as NonNullable<typeof web.server>
        draining = () => server.draining
        const { identity, kept } = await mediatorIdentityFor({
          admin,
          file: o.identity,
          httpUrl: o.publicUrl ?? `http://127.0.0.1:${server.port}/`,
          ws: o.ws,
          mqtt: o.mqtt,
          rotate: o.rotateIdentity,
        }).catch(async (err: unknown) => {
          await web.close()
          await opened.close()
          throw err
        })
        tokens = BlobTokens.fromSecrets(identity.secrets)
        const blobBase = o.publicUrl ?? `http://127.0.0.1:${server.port}/`
        const mqttEndpoint = mqttEndpointAt(identity, o.mqtt)
        const transports: EndpointTransport[] = [web]
        if (mqttEndpoint)
          transports.push(
            await mqttEndpointTransport({ endpoint: mqttEndpoint, clientId: `carrier-mediator-${didTag(identity.did)}` }),
          )
        const pool = o.threads > 0 ? createDecryptPool({ secrets: identity.secrets, threads: o.threads }) : undefined
        mediator = createMediator({
          identity,
          store,
          decrypt: pool?.decrypt,
          resolver: resolverWith(identity.document),
          transports,
          blobs: { store: blobs, tokens, urlOf: (hash) => new URL(`blobs/${hash}`, blobBase).toString(), limits: blobLimits },
          onError: (e) => log.warn('refused', { code: (e as { code?: string }).code, error: (e as Error).message }),
        })
        const invitation = createInvitation({ from: mediator.did, goalCode: 'request-mediate', goal: 'Mediation' })
        const url = invitationUrl(invitation)
        const endpoints = endpointsOf(identity)
        ctx.out.result(mediator.did, {
          command: 'mediator',
          did: mediator.did,
          endpoints,
          invitation: url,
          store: o.store,
          threads: o.threads,
          identity: kept ? 'kept' : 'new',
        })
        log.info('mediator started', {
          did: mediator.did,
          identity: kept ? 'kept' : 'new',
          endpoints,
          listen: `${host}:${server.port}`,
          store: o.store.replace(/\/\/[^@/]*@/, '//…@'),
          invitation: url,
        })
        if (!ctx.out.json && process.stderr.isTTY) {
          try {
            process.stderr.write(`${modulesToTerminal(textToModules(url, { ecc: 'L' }))}\n`)
          } catch {
            // the invitation is too long for one QR code: the URL is in the log
          }
        }
        const signal = await stopped
        // stop taking envelopes (503), let those in flight finish, close live sessions with a reason
        log.info('shutting down', { signal })
        await server.drain('the mediator is shutting down: reconnect')
        await mediator.close()
        await pool?.close()
        await opened.close()
        log.info('stopped', { signal })
      },
    )
}
