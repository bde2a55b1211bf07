import { existsSync } from 'node:fs'
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { makeMqttEndpoint, newInboxKey } from '../../adapters/mqtt/index.js'
import { staticSecrets } from '../../src/did/document.js'
import { createPeerDid } from '../../src/did/peer.js'
import { endpointOf, type Message, packEncrypted, packSigned, unpack } from '../../src/didcomm/pack.js'
import { loadIdentity, resolverWith } from '../identity.js'
import { did, endpointUri, file } from '../options.js'
import type { CliContext } from '../registry.js'

/**
 * An MQTT broker URL without an inbox gets a fresh one: mqtt://host:1883 →
 * mqtt://host:1883/didcomm/v2/<rk>/in. http(s):// and ws(s):// are DIDComm's own HTTP and WebSocket
 * endpoints (carrier listen --http --ws), taken as they are (an MQTT-over-WebSocket inbox is given
 * whole: ws://host/mqtt/didcomm/v2/<rk>/in).
 */
function inboxEndpoint(uri: string): string {
  const u = new URL(uri)
  if (!['mqtt:', 'mqtts:'].includes(u.protocol) || u.pathname.includes('/didcomm/v2/')) return uri
  return makeMqttEndpoint(uri, newInboxKey())
}

/** A service that says "through this mediator": its endpoint, its first key agreement key as routing key. */
async function throughMediator(did: string): Promise<{ uri: string; routingKeys: string[] }> {
  const resolver = resolverWith()
  const doc = await resolver.resolve(did)
  const uri = doc ? await endpointOf(did, resolver) : undefined
  const ka = doc?.keyAgreement?.[0]
  const kid = typeof ka === 'string' ? ka : ka?.id
  if (!uri || !kid) throw new Error(`${did} has no endpoint and key agreement key to mediate through`)
  return { uri, routingKeys: [kid.startsWith('#') ? `${did}${kid}` : kid] }
}

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') return readFile(file, 'utf8')
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function output(text: string, out: string | undefined): Promise<void> {
  if (out) await writeFile(out, text)
  else process.stdout.write(`${text}\n`)
}

/**
 * An identity file, readable by its owner only (0600, whatever the umask): written beside the
 * target and renamed over it, so it never exists with wider rights or half written.
 */
async function writeIdentity(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' })
    await chmod(tmp, 0o600)
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export function register(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('DIDComm identities')
  keys
    .command('new')
    .description('create a did:peer:2 identity (X25519 key agreement, Ed25519 signing) with its secrets')
    .requiredOption('--out <file>', 'identity file to write (keep it private: it holds the private keys)', file)
    .option(
      '--service <uri>',
      'DIDCommMessaging service endpoint: mqtt(s):// (a broker URL gets an inbox of its own), http(s):// or ws(s):// (carrier listen --http), ble://',
      endpointUri,
    )
    .option('--mediator <did>', 'reachable through this mediator or bridge: its endpoint, and its key as routing key', did)
    .option('--force', 'overwrite an existing identity file (its private keys are lost)', false)
    .action(async (o: { out: string; service?: string; mediator?: string; force: boolean }) => {
      if (o.service && o.mediator) throw new Error('give --service or --mediator, not both')
      if (!o.force && existsSync(o.out))
        throw new Error(`${o.out} exists: it may hold an identity's private keys; pass --force to overwrite it`)
      const id = createPeerDid(
        o.mediator
          ? { service: await throughMediator(o.mediator) }
          : o.service
            ? { service: { uri: inboxEndpoint(o.service) } }
            : {},
      )
      await writeIdentity(o.out, `${JSON.stringify(id, null, 2)}\n`)
      ctx.out.result(`${id.did}\n(identity written to ${o.out})`, { command: 'keys new', did: id.did, file: o.out })
    })

  keys
    .command('show')
    .description("print an identity file's DID (with --json: its DID and public DID document, never its secrets)")
    .argument('<file>', 'identity file (carrier keys new)')
    .action(async (file: string) => {
      const id = await loadIdentity(file)
      ctx.out.result(id.did, { command: 'keys show', did: id.did, document: id.document })
    })

  program
    .command('pack')
    .description('pack a plaintext message (file or stdin) into an encrypted DIDComm envelope')
    .argument('[file]', 'message JSON; - or nothing for stdin')
    .requiredOption('--to <did>', 'recipient DID', did)
    .option('--identity <file>', 'our identity (carrier keys new): authcrypt from it', file)
    .option('--anon', 'anoncrypt: do not reveal the sender', false)
    .option('--sign', 'sign with the identity first (non-repudiation)', false)
    .option('--out <file>', 'write the envelope here instead of stdout', file)
    .action(
      async (file: string | undefined, o: { to: string; identity?: string; anon: boolean; sign: boolean; out?: string }) => {
        const id = o.identity ? await loadIdentity(o.identity) : undefined
        if ((o.sign || !o.anon) && !id) throw new Error('authcrypt and --sign need --identity (or use --anon)')
        const message = JSON.parse(await readInput(file)) as Partial<Message>
        const from = o.anon ? undefined : id?.did
        const full: Message = {
          id: message.id ?? crypto.randomUUID(),
          type: message.type ?? 'https://didcomm.org/basicmessage/2.0/message',
          body: message.body ?? {},
          created_time: message.created_time ?? Math.floor(Date.now() / 1000),
          ...message,
          ...(from && !message.from ? { from } : {}),
          ...(!message.to ? { to: [o.to] } : {}),
        } as Message
        const secrets = staticSecrets(id?.secrets ?? [])
        const resolver = resolverWith(...(id ? [id.document] : []))
        const signFrom = o.sign ? `${id?.did}#key-2` : undefined
        const packed = await packEncrypted(full, { to: o.to, from, signFrom, resolver, secrets })
        await output(packed.packed, o.out)
        ctx.out.info(`packed for ${packed.toKids.join(', ')}${packed.fromKid ? ` from ${packed.fromKid}` : ' (anoncrypt)'}`)
      },
    )

  program
    .command('sign')
    .description('sign a plaintext message (file or stdin) with the identity')
    .argument('[file]', 'message JSON; - or nothing for stdin')
    .requiredOption('--identity <file>', 'our identity', file)
    .option('--out <file>', 'write the envelope here instead of stdout', file)
    .action(async (file: string | undefined, o: { identity: string; out?: string }) => {
      const id = await loadIdentity(o.identity)
      const message = { from: id.did, ...(JSON.parse(await readInput(file)) as Message) }
      await output(await packSigned(message, { signFrom: `${id.did}#key-2`, secrets: staticSecrets(id.secrets) }), o.out)
    })

  program
    .command('unpack')
    .description('unpack a DIDComm envelope (file or stdin), checking every rule of the spec')
    .argument('[file]', 'envelope; - or nothing for stdin')
    .option('--identity <file>', 'our identity (its private keys decrypt)', file)
    .option('--out <file>', 'write the plaintext message here instead of stdout', file)
    .action(async (file: string | undefined, o: { identity?: string; out?: string }) => {
      const id = o.identity ? await loadIdentity(o.identity) : undefined
      const { message, metadata } = await unpack(await readInput(file), {
        resolver: resolverWith(...(id ? [id.document] : [])),
        secrets: staticSecrets(id?.secrets ?? []),
      })
      if (ctx.out.json) return ctx.out.result('', { command: 'unpack', message, metadata })
      await output(JSON.stringify(message, null, 2), o.out)
      ctx.out.info(
        `${metadata.encrypted ? 'encrypted' : 'plaintext'}${metadata.authenticated ? `, authenticated (${metadata.encryptedFrom ?? metadata.signFrom})` : ', anonymous sender'}${metadata.nonRepudiation ? ', signed' : ''}`,
      )
    })
}
