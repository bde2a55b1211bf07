import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { bleEndpointTransport, parseBleEndpoint } from '../../adapters/ble/index.js'
import { FolderReceiver, sendFile, withoutBytes, writeNew } from '../../adapters/fs/index.js'
import { isDidcommWebUri, webEndpointTransport } from '../../adapters/http/index.js'
import { mqttEndpointTransport } from '../../adapters/mqtt/index.js'
import { MQTT_SCHEMES } from '../../adapters/mqtt/uri.js'
import type { SeenIds } from '../../src/agent/seen.js'
import { type Agent, type AgentMessage, type AgentPolicy, createAgent, type EndpointTransport } from '../../src/agent.js'
import type { DIDDocument } from '../../src/did/document.js'
import { createMessage } from '../../src/didcomm/message.js'
import type { Message, UnpackMetadata } from '../../src/didcomm/pack.js'
import { CarrierError } from '../../src/transport.js'
import { didTag, hasEndpoint, loadIdentity, ownEndpoint, resolverWith } from '../identity.js'
import { lockInbox } from '../listen-lock.js'
import { mediatedAgent } from '../mediated.js'
import { mediatedFiles, sendFileViaMediator } from '../mediated-files.js'
import { collectEvery } from '../memory.js'
import {
  count,
  did,
  endpointUri,
  file,
  folder,
  integer,
  jsonObject,
  listenAddress,
  mediaType,
  ms,
  sizeBytes,
  text,
} from '../options.js'
import type { CliContext } from '../registry.js'
import { keptSeenIds, seenFileOf } from '../seen-file.js'

/**
 * A CLI agent's transports: its own endpoint's (an MQTT inbox, or a BLE peripheral at its
 * ble://…?token=), and a BLE central for ble:// recipients. An identity with no endpoint (a
 * phone-like sender) sends over MQTT (with a fresh inbox of its own for the acks) and BLE.
 */
async function transportsFor(endpoint: string | undefined, clientId: string, serve?: WebListen): Promise<EndpointTransport[]> {
  // every CLI agent reaches http(s)/ws(s) endpoints (mediators, web agents) as a client; with
  // `serve` (listen --http) it is one too
  const web = () => webEndpointTransport(serve ? { listen: { host: serve.host, port: serve.port, ws: serve.ws } } : {})
  // an identity reached through a mediator (its service a DID, or the mediator's web endpoint) sends like one with none
  if (!endpoint || /^did:/.test(endpoint) || isDidcommWebUri(endpoint))
    return [await mqttEndpointTransport({ clientId }), await bleEndpointTransport(), await web()]
  const scheme = new URL(endpoint).protocol
  if ((MQTT_SCHEMES as readonly string[]).includes(scheme))
    return [await mqttEndpointTransport({ endpoint, clientId }), await bleEndpointTransport(), await web()]
  if (scheme === 'ble:') {
    const { token } = parseBleEndpoint(endpoint)
    if (!token) throw new Error(`${endpoint}: a ble:// endpoint we listen at needs its ?token=`)
    return [await bleEndpointTransport({ listen: { token } })]
  }
  throw new Error(`no transport for ${scheme} endpoints (mqtt://, mqtts://, http://, https://, ws://, wss://, ble://)`)
}

/** Where `carrier listen --http [--ws]` serves its HTTP (and WebSocket) endpoint. */
interface WebListen {
  host: string
  port: number
  ws: boolean
}

async function agentFor(
  identityFile: string,
  via: string | undefined,
  o: {
    policy?: AgentPolicy
    endpointRequired?: boolean
    onError?: (err: unknown) => void
    serve?: WebListen
    seen?: SeenIds
  } = {},
): Promise<Agent> {
  const identity = await loadIdentity(identityFile)
  const resolver = resolverWith(identity.document as DIDDocument)
  const endpoint = o.endpointRequired || via || hasEndpoint(identity) ? ownEndpoint(identity, via) : undefined
  if (o.endpointRequired && !o.serve && endpoint && isDidcommWebUri(endpoint))
    throw new Error(`${endpoint} is an HTTP/WebSocket endpoint: serve it with --http [host]:port (and --ws)`)
  return createAgent({
    identity,
    resolver,
    transports: await transportsFor(endpoint, `carrier-${didTag(identity.did)}`, o.serve),
    policy: o.policy,
    onError: o.onError,
    extras: { seen: o.seen },
  })
}

/** An agent for one command, closed whatever happens. */
export async function withAgent(o: { identity: string; via?: string }, run: (agent: Agent) => Promise<void>): Promise<void> {
  const agent = await agentFor(o.identity, o.via)
  try {
    await run(agent)
  } finally {
    await agent.close()
  }
}

export function register(program: Command, ctx: CliContext): void {
  const common = (c: Command) =>
    c
      .requiredOption('--identity <file>', 'our identity (carrier keys new)', file)
      .option(
        '--via <uri>',
        'our endpoint, when the identity has none (mqtt://host:port/didcomm/v2/<rk>/in, ble://<uuid>?token=T)',
        endpointUri,
      )

  common(
    program
      .command('send')
      .description('send a DIDComm message to a DID, over the channel its DID document names (authcrypt; --anon for anoncrypt)')
      .requiredOption('--to <did>', 'recipient DID', did)
      .option('--message <json>', 'the message (id, type, body…; missing parts are filled in)', jsonObject)
      .option('--text <text>', 'send a basic message with this text')
      .option('--anon', 'anoncrypt: do not reveal who sends', false)
      .option('--sign', 'sign too (non-repudiation)', false),
  ).action(
    async (o: { to: string; message?: string; text?: string; anon: boolean; sign: boolean; identity: string; via?: string }) => {
      if (!o.message && o.text === undefined) throw new Error('give --message JSON or --text T')
      await withAgent(o, async (agent) => {
        const m: Message = o.message
          ? {
              ...createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message' }),
              ...(JSON.parse(o.message) as Partial<Message>),
            }
          : createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: o.text } })
        // a long transfer shows a bar (--json: progress events), as send-file does; a short one nothing
        let bar: ReturnType<typeof ctx.out.transfer> | undefined
        const r = await agent
          .send(m, {
            to: o.to,
            anonymous: o.anon,
            sign: o.sign,
            onProgress: ({ sentBytes, totalBytes }) => {
              if (!bar && totalBytes < SEND_PROGRESS_FROM) return
              bar ??= ctx.out.transfer('send', totalBytes, { command: 'send', id: m.id })
              bar.update(sentBytes, totalBytes)
            },
          })
          .finally(() => bar?.stop())
        ctx.out.event(
          'message',
          { command: 'send', id: m.id, uri: r.uri, ...r.report },
          `sent ${m.id} to ${o.to} via ${r.uri} (${r.report.envelopeBytes} bytes, ${r.report.frames} frames)`,
        )
      })
    },
  )

  common(
    program
      .command('send-file')
      .description(
        "send a file encrypted once with a fresh key: one authcrypt share-media, then the ciphertext as bytes over the link, each chunk confirmed on the receiver's disk; a restarted receiver resumes (docs/FILES.md)",
      )
      .argument('<file>', 'the file')
      .requiredOption('--to <did>', 'recipient DID', did)
      .option('--media-type <type>', 'media type of the file', mediaType, 'application/octet-stream')
      .option('--name <name>', "the file name the receiver is told (default: the file's own)", text('a file name'))
      .option('--part-size <bytes>', 'file bytes per chunk (one wire transfer of their sealed segments)', sizeBytes, 512 * 1024)
      .option('--window <chunks>', 'chunks out and not yet confirmed', integer(1, 64, 'a number of chunks'), 8)
      .option('--idle-timeout <ms>', 'give up after hearing nothing from the receiver this long', ms, 120_000)
      .option(
        '--resume-dir <dir>',
        "keep each file's key here (0600) until the receiver confirms it: send-file run again after a crash sends the same blob and the receiver keeps what it has (default: <identity>.sends/)",
        folder,
      )
      .option(
        '--anon',
        `anoncrypt, the file whole in one message (at most ${ANON_MAX / 1024 / 1024} MiB, no confirmation on disk)`,
        false,
      )
      .option('--sign', 'sign too (non-repudiation)', false),
  ).action(
    async (
      file: string,
      o: {
        to: string
        mediaType: string
        name?: string
        partSize: number
        window: number
        idleTimeout: number
        resumeDir?: string
        anon: boolean
        sign: boolean
        identity: string
        via?: string
      },
    ) => {
      const size = (await stat(file)).size
      const name = o.name ?? basename(file)
      await withAgent(o, async (agent) => {
        if (o.anon) {
          if (size > ANON_MAX) throw new Error(`--anon sends a file whole: at most ${ANON_MAX} bytes, ${file} has ${size}`)
          const bytes = new Uint8Array(await readFile(file))
          const r = await agent.sendFile(bytes, { to: o.to, filename: name, mediaType: o.mediaType, anonymous: true })
          ctx.out.event('file', { command: 'send-file', file: name, bytes: size, uri: r.uri, ...r.report }, undefined)
          ctx.out.info(`sent ${name} (${size} bytes) to ${o.to} via ${r.uri}, anonymously`)
          return
        }
        // a recipient behind a mediator: the file waits there, encrypted, until it comes online
        if (await sendFileViaMediator(agent, file, o, ctx)) return
        const bar = ctx.out.transfer('send', size, { command: 'send-file', file: name })
        const collect = collectEvery(FILE_GC)
        const r = await sendFile(agent, file, {
          to: o.to,
          filename: name,
          mediaType: o.mediaType,
          partBytes: o.partSize,
          window: o.window,
          idleTimeoutMs: o.idleTimeout,
          resumeDir: o.resumeDir ?? `${o.identity}.sends`,
          sign: o.sign,
          onProgress: (p) => {
            bar.update(p.ackedBytes, p.totalBytes)
            collect(p.readBytes)
          },
        })
        bar.update(size)
        bar.stop()
        ctx.out.event(
          'file',
          { command: 'send-file', file: r.filename, confirmed: true, ...r },
          `sent ${r.filename} (${r.bytes} bytes, ${r.parts} chunks${r.resumedParts ? `, ${r.resumedParts} already there` : ''}) to ${o.to}, SHA-256 confirmed`,
        )
      })
    },
  )

  common(
    program
      .command('listen')
      .description(
        'receive DIDComm messages: each as metadata JSON in --out, files beside it (never overwriting; parts resumed after a restart)',
      )
      .requiredOption('--out <dir>', 'folder for what arrives', folder)
      .option(
        '--count <n>',
        'exit after this many messages, a file transfer counting as one (0: set up and leave)',
        integer(0, Number.MAX_SAFE_INTEGER, 'a count'),
      )
      .option('--require-auth', 'refuse anonymous (anoncrypt, unsigned) messages', false)
      .option(
        '--max-file-bytes <n>',
        'largest file accepted',
        integer(1, Number.MAX_SAFE_INTEGER, 'a size in bytes'),
        64 * 1024 ** 3,
      )
      .option('--partial-ttl <ms>', 'remove partial files untouched this long', ms, 24 * 3600_000)
      .option('--quota-messages <n>', 'messages one sender may deliver per quota interval', count, 120)
      .option('--quota-bytes <n>', 'envelope bytes one sender may deliver per quota interval', count, 256 * 1024 * 1024)
      .option('--quota-interval <ms>', 'the quota interval', ms, 60_000)
      .option(
        '--mediator <did>',
        'offline most of the time: our messages wait at this mediator; pick them up (live over WebSocket, else polling)',
        did,
      )
      .option('--poll <ms>', 'with --mediator and no WebSocket: poll this often', ms, 5000)
      .option('--http <[host]:port>', 'serve our http:// endpoint here (HTTP POST; :8080 is every interface)', listenAddress)
      .option('--ws', 'with --http: serve WebSocket on the same port too (a ws:// endpoint)', false),
  ).action(async (o: ListenOptions) => {
    if (o.ws && !o.http) throw new Error('--ws serves WebSocket on the --http port: give --http [host]:port too')
    if (o.http && o.mediator) throw new Error('give --http or --mediator, not both')
    const quota = { messages: o.quotaMessages, bytes: o.quotaBytes, intervalMs: o.quotaInterval }
    let receiver: FolderReceiver | undefined
    // parts of a file the receiver accepted are bounded by its own limits, not the message quota
    // (120 messages/min would cap a file at 120 MiB/min)
    const policy = {
      requireAuthenticated: o.requireAuth,
      quota,
      quotaExempt: (m: Message, md: UnpackMetadata) => receiver?.expects(m, md) ?? false,
    }
    const onError = (err: unknown) => reportError(ctx, err)
    lockInbox(o.identity)
    // ids handed out are remembered across restarts: a message delivered again is written once
    const kept = await keptSeenIds(seenFileOf(o.out))
    const seen = kept.seen
    const agent = o.mediator
      ? await mediatedAgent(o.identity, o.mediator, { policy, onError, pollMs: o.poll, info: (t) => ctx.out.info(t), seen })
      : await agentFor(o.identity, o.via, {
          policy,
          endpointRequired: true,
          onError,
          serve: o.http ? { ...o.http, ws: o.ws } : undefined,
          seen,
        })
    if (o.count === 0) {
      // --count 0: set up (with --mediator: registered there) and leave
      ctx.out.info(`listening as ${agent.did}`)
      await agent.close()
      return
    }
    const bars = new Map<string, ReturnType<typeof ctx.out.transfer>>()
    const collect = collectEvery(FILE_GC)
    let receivedBytes = 0
    const partBytesSeen = new Map<string, number>()
    let n = 0
    const writes: Promise<unknown>[] = []
    receiver = new FolderReceiver(
      { dir: o.out, maxFileBytes: o.maxFileBytes, partialTtlMs: o.partialTtl },
      (status, to) => agent.send(status, { to }),
      (e) => {
        if (e.kind === 'progress') {
          let bar = bars.get(e.transferId)
          if (!bar)
            bars.set(
              e.transferId,
              (bar = ctx.out.transfer(`receive ${e.name}`, e.total, { transferId: e.transferId, file: e.name })),
            )
          bar.update(e.bytes, e.total)
          collect((receivedBytes += e.bytes - (partBytesSeen.get(e.transferId) ?? 0)))
          partBytesSeen.set(e.transferId, e.bytes)
          return
        }
        bars.get(e.file.transferId)?.stop()
        bars.delete(e.file.transferId)
        n++
        writes.push(writeNew(o.out, `${e.message.id}.json`, json(e.message), 'message.json'))
        ctx.out.event('file', { command: 'listen', ...e.file, from: e.from ?? null }, undefined)
        ctx.out.event(
          'message',
          messageEvent(e.message, e.from, e.authenticated, [e.file.name]),
          `${e.message.id} ${e.message.type} from ${e.from ?? '(anonymous)'}, file: ${e.file.name} (${e.file.bytes} bytes, SHA-256 checked)`,
        )
        // files complete outside messages() (the last chunk is bytes, not a message): stop it here
        if (o.count !== undefined && n >= o.count) counted.abort()
      },
      (err) => reportError(ctx, err),
    )
    await receiver.init()
    // files waiting at our mediator as encrypted blobs (send-file to an offline recipient)
    const blobs = o.mediator ? mediatedFiles(agent, o.mediator, { dir: o.out, maxFileBytes: o.maxFileBytes }, ctx) : undefined
    const counted = new AbortController()
    const detach = receiver.attach(agent)
    const stop = () => void agent.close()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    ctx.out.event('ready', { did: agent.did, out: o.out })
    ctx.out.info(`listening as ${agent.did}`)
    try {
      n += await (blobs?.resume() ?? Promise.resolve(0)).catch((err: unknown) => {
        reportError(ctx, err)
        return 0
      })
      if (o.count !== undefined && n >= o.count) counted.abort()
      for await (const { message, metadata } of messagesUntil(agent, counted.signal)) {
        try {
          if (await blobs?.handle(message, message.from, metadata.authenticated)) n++
          else if (!(await receiver.handle(message, metadata))) {
            const saved = await receiver.saveAttachments(message)
            const stored = withLinks(
              withoutBytes(message),
              saved.map((f) => f.name),
            )
            await writeNew(o.out, `${message.id}.json`, json(stored), 'message.json')
            kept.changed()
            n++
            const files = saved.map((f) => f.name)
            ctx.out.event(
              'message',
              messageEvent(message, message.from, metadata.authenticated, files),
              `${message.id} ${message.type} from ${message.from ?? '(anonymous)'}${files.length ? `, files: ${files.join(', ')}` : ''}`,
            )
          }
          await Promise.all(writes.splice(0))
        } catch (err) {
          reportError(ctx, err, message.id)
        }
        if (o.count !== undefined && n >= o.count) break
      }
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      detach()
      await Promise.all(writes.splice(0))
      // waits for the statuses being sent: the sender of the last file hears it is complete
      await receiver.close()
      await agent.close()
      await kept.close()
    }
  })
}

/** The agent's messages until `signal` aborts (then the iteration just ends). */
async function* messagesUntil(agent: Agent, signal: AbortSignal): AsyncGenerator<AgentMessage> {
  try {
    for await (const m of agent.messages({ signal })) yield m
  } catch (err) {
    if (!signal.aborted) throw err
  }
}

/** `carrier send` shows its progress from this many bytes on the wire (a few seconds over BLE). */
const SEND_PROGRESS_FROM = 64 * 1024

/** Forced garbage collections by file bytes moved (cli/memory.ts). */
const MiB = 1024 * 1024
const FILE_GC = { youngEvery: 2 * MiB, fullEvery: 64 * MiB }

/** Largest file `send-file --anon` sends whole (the envelope is ~1.8× the file, all in memory). */
const ANON_MAX = 16 * 1024 * 1024

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`)

function messageEvent(m: Message, from: string | undefined, authenticated: boolean, files: string[]) {
  return { command: 'listen', id: m.id, type: m.type, from: from ?? null, files, authenticated }
}

/** Base64 attachments of a stored message point at the file each became (relative to the folder). */
function withLinks(m: Message, names: string[]): Message {
  let i = 0
  return {
    ...m,
    attachments: m.attachments?.map((a) =>
      a.data.hash !== undefined && a.data.json === undefined && a.data.links === undefined && i < names.length
        ? { ...a, data: { ...a.data, links: [encodeURIComponent(names[i++] as string)] } }
        : a,
    ),
  }
}

/** One bad message is reported and the listener goes on. */
function reportError(ctx: CliContext, err: unknown, id?: string): void {
  const code = err instanceof CarrierError ? err.code : undefined
  const message = err instanceof Error ? err.message : String(err)
  ctx.out.event('error', { command: 'listen', code: code ?? null, message, ...(id ? { id } : {}) })
  if (!ctx.out.json)
    process.stderr.write(
      `carrier listen: refused ${id ? `message ${id}` : 'a message'}: ${code ? `${code}: ` : ''}${message.split('\n')[0]}\n`,
    )
}

interface ListenOptions {
  out: string
  count?: number
  requireAuth: boolean
  quotaMessages: number
  quotaBytes: number
  quotaInterval: number
  maxFileBytes: number
  partialTtl: number
  identity: string
  via?: string
  mediator?: string
  poll: number
  http?: { host: string; port: number }
  ws: boolean
}
