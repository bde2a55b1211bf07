import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import { bleEndpointTransport, parseBleEndpoint } from '../../adapters/ble/index.js'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { mqttEndpointTransport } from '../../adapters/mqtt/index.js'
import { MQTT_SCHEMES } from '../../adapters/mqtt/uri.js'
import {
  type Agent,
  type AgentMessage,
  type AgentPolicy,
  createAgent,
  type EndpointTransport,
  receivedFiles,
} from '../../src/agent.js'
import type { DIDDocument } from '../../src/did/document.js'
import { createMessage } from '../../src/didcomm/message.js'
import type { Message } from '../../src/didcomm/pack.js'
import { CarrierError } from '../../src/transport.js'
import { didTag, hasEndpoint, loadIdentity, ownEndpoint, resolverWith } from '../identity.js'
import { mediatedAgent } from '../mediated.js'
import { count, did, endpointUri, file, folder, integer, jsonObject, mediaType, ms } from '../options.js'
import type { CliContext } from '../registry.js'

/**
 * A CLI agent's transports: its own endpoint's (an MQTT inbox, or a BLE peripheral at its
 * ble://…?token=), and a BLE central for ble:// recipients. An identity with no endpoint (a
 * phone-like sender) sends over MQTT (with a fresh inbox of its own for the acks) and BLE.
 */
async function transportsFor(endpoint: string | undefined, clientId: string): Promise<EndpointTransport[]> {
  // every CLI agent reaches http(s)/ws(s) endpoints (mediators, web agents) as a client
  if (!endpoint) return [await mqttEndpointTransport({ clientId }), await bleEndpointTransport(), await webEndpointTransport()]
  const scheme = new URL(endpoint).protocol
  if ((MQTT_SCHEMES as readonly string[]).includes(scheme))
    return [await mqttEndpointTransport({ endpoint, clientId }), await bleEndpointTransport(), await webEndpointTransport()]
  if (scheme === 'ble:') {
    const { token } = parseBleEndpoint(endpoint)
    if (!token) throw new Error(`${endpoint}: a ble:// endpoint we listen at needs its ?token=`)
    return [await bleEndpointTransport({ listen: { token } })]
  }
  throw new Error(`no transport for ${scheme} endpoints (mqtt://, mqtts://, ws://, wss://, ble://)`)
}

async function agentFor(
  identityFile: string,
  via: string | undefined,
  o: { policy?: AgentPolicy; endpointRequired?: boolean; onError?: (err: unknown) => void } = {},
): Promise<Agent> {
  const identity = await loadIdentity(identityFile)
  const resolver = resolverWith(identity.document as DIDDocument)
  const endpoint = o.endpointRequired || via || hasEndpoint(identity) ? ownEndpoint(identity, via) : undefined
  return createAgent({
    identity,
    resolver,
    transports: await transportsFor(endpoint, `carrier-${didTag(identity.did)}`),
    policy: o.policy,
    onError: o.onError,
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
        const r = await agent.send(m, { to: o.to, anonymous: o.anon, sign: o.sign })
        ctx.out.result(`sent ${m.id} to ${o.to} via ${r.uri} (${r.report.envelopeBytes} bytes, ${r.report.frames} frames)`, {
          command: 'send',
          id: m.id,
          uri: r.uri,
          ...r.report,
        })
      })
    },
  )

  common(
    program
      .command('send-file')
      .description('send a file as a DIDComm attachment (byte_count, media type, filename, hash)')
      .argument('<file>', 'the file')
      .requiredOption('--to <did>', 'recipient DID', did)
      .option('--media-type <type>', 'media type of the file', mediaType, 'application/octet-stream'),
  ).action(async (file: string, o: { to: string; mediaType: string; identity: string; via?: string }) => {
    const bytes = new Uint8Array(await readFile(file))
    await withAgent(o, async (agent) => {
      const bar = ctx.out.progress('send', bytes.length)
      const r = await agent.sendFile(bytes, {
        to: o.to,
        filename: basename(file),
        mediaType: o.mediaType,
        onProgress: (p) => bar.update(p.sentBytes, p.totalBytes),
      })
      bar.stop()
      ctx.out.result(`sent ${basename(file)} (${bytes.length} bytes) to ${o.to} via ${r.uri}`, {
        command: 'send-file',
        file: basename(file),
        bytes: bytes.length,
        uri: r.uri,
        ...r.report,
      })
    })
  })

  common(
    program
      .command('listen')
      .description('receive DIDComm messages: each message as JSON in --out, attached files beside it (hash checked)')
      .requiredOption('--out <dir>', 'folder for what arrives', folder)
      .option(
        '--count <n>',
        'exit after this many messages (0: set up and leave)',
        integer(0, Number.MAX_SAFE_INTEGER, 'a count'),
      )
      .option('--require-auth', 'refuse anonymous (anoncrypt, unsigned) messages', false)
      .option('--quota-messages <n>', 'messages one sender may deliver per quota interval', count, 120)
      .option('--quota-bytes <n>', 'envelope bytes one sender may deliver per quota interval', count, 256 * 1024 * 1024)
      .option('--quota-interval <ms>', 'the quota interval', ms, 60_000)
      .option(
        '--mediator <did>',
        'offline most of the time: our messages wait at this mediator; pick them up (live over WebSocket, else polling)',
        did,
      )
      .option('--poll <ms>', 'with --mediator and no WebSocket: poll this often', ms, 5000),
  ).action(async (o: ListenOptions) => {
    await mkdir(o.out, { recursive: true })
    const quota = { messages: o.quotaMessages, bytes: o.quotaBytes, intervalMs: o.quotaInterval }
    const policy = { requireAuthenticated: o.requireAuth, quota }
    const onError = (err: unknown) => refused(err)
    const agent = o.mediator
      ? await mediatedAgent(o.identity, o.mediator, { policy, onError, pollMs: o.poll, info: (t) => ctx.out.info(t) })
      : await agentFor(o.identity, o.via, { policy, endpointRequired: true, onError })
    ctx.out.info(`listening as ${agent.did}`)
    if (o.count === 0) {
      // --count 0: set up (with --mediator: registered there) and leave
      await agent.close()
      return
    }
    const stop = () => void agent.close()
    process.once('SIGINT', stop)
    let n = 0
    for await (const { message, metadata } of agent.messages()) {
      try {
        await keep(message, metadata)
      } catch (err) {
        // one message that cannot be kept is refused; the listener goes on with the next
        refused(err, message.id)
        continue
      }
      n++
      if (o.count !== undefined && n >= o.count) break
    }
    process.off('SIGINT', stop)
    await agent.close()

    async function keep(message: Message, metadata: AgentMessage['metadata']): Promise<void> {
      const safe = message.id.replace(/[^\w.-]/g, '_')
      await writeFile(join(o.out, `${safe}.json`), `${JSON.stringify(message, null, 2)}\n`)
      const files = receivedFiles(message)
      for (const f of files) await writeFile(join(o.out, basename(f.filename ?? `${safe}.bin`)), f.bytes)
      ctx.out.result(
        `${message.id} ${message.type} from ${message.from ?? '(anonymous)'}${files.length ? `, files: ${files.map((f) => f.filename).join(', ')}` : ''}`,
        {
          command: 'listen',
          id: message.id,
          type: message.type,
          from: message.from ?? null,
          files: files.map((f) => f.filename),
          authenticated: metadata.authenticated,
        },
      )
    }
  })
}

interface ListenOptions {
  out: string
  count?: number
  requireAuth: boolean
  quotaMessages: number
  quotaBytes: number
  quotaInterval: number
  identity: string
  via?: string
  mediator?: string
  poll: number
}

/** The log line (stderr) of a message the listener did not take. */
function refused(err: unknown, id?: string): void {
  const reason = err instanceof CarrierError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
  process.stderr.write(`carrier listen: refused ${id ? `message ${id}` : 'a message'}: ${reason.split('\n')[0]}\n`)
}
