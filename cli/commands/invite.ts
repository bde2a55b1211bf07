import { readFile, stat, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import {
  decodeFramesFrom,
  decodePng,
  decodeQrTextWasm,
  encodeFramesToDir,
  encodePng,
  modulesToImage,
  textToModules,
} from '../../adapters/qr/index.js'
import type { Agent } from '../../src/agent.js'
import { createInvitation, invitationUrl, parseInvitationUrl } from '../../src/didcomm/oob.js'
import type { Message } from '../../src/didcomm/pack.js'
import { hasEndpoint, loadIdentity } from '../identity.js'
import { endpointUri, file, goal, ms, png } from '../options.js'
import type { CliContext } from '../registry.js'
import { withAgent } from './agent.js'

const PING = 'https://didcomm.org/trust-ping/2.0/ping'
const PING_RESPONSE = 'https://didcomm.org/trust-ping/2.0/ping-response'

/** The first message matching `want`, or an error after `ms`. */
async function waitFor(agent: Agent, want: (m: Message) => boolean, ms: number, what: string): Promise<Message> {
  const signal = AbortSignal.timeout(ms)
  try {
    for await (const { message } of agent.messages({ signal })) if (want(message)) return message
  } catch (err) {
    if (!signal.aborted) throw err
  }
  throw new Error(`no ${what} within ${ms} ms`)
}

/** One QR code when the URL fits (v40-L at most), else a folder of fountain-coded frames beside it. */
async function renderInvitation(url: string, png: string): Promise<{ png?: string; frames?: string }> {
  let code: ReturnType<typeof textToModules> | undefined
  try {
    code = textToModules(url, { ecc: 'L' })
  } catch {
    // too long for one code
  }
  if (code) {
    await writeFile(png, encodePng(modulesToImage(code, { scale: 4 })))
    return { png }
  }
  const frames = `${png.replace(/\.png$/i, '')}-frames`
  await encodeFramesToDir(new TextEncoder().encode(url), frames, { scale: 4 })
  return { frames }
}

/** The invitation URL: given, or read from a QR image, or decoded from a folder of animated frames. */
async function invitationSource(source: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(source)) return source
  if ((await stat(source)).isDirectory()) return new TextDecoder().decode((await decodeFramesFrom([source])).data)
  const url = await decodeQrTextWasm(decodePng(await readFile(source)))
  if (!url) throw new Error(`no QR code found in ${source}`)
  return url
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('invite')
    .description('make an out-of-band invitation (URL, QR image), then wait for the invitee to connect back and answer it')
    .requiredOption('--identity <file>', 'our identity (carrier keys new)', file)
    .option('--via <uri>', 'our endpoint, when the identity has none', endpointUri)
    .option('--goal <text>', 'what the connection is for', goal)
    .option(
      '--png <file>',
      'also write the invitation as one QR code image (animated frames in a folder beside it when too long)',
      png,
    )
    .option('--wait <ms>', 'how long to wait for the invitee', ms, 120_000)
    .action(async (o: { identity: string; via?: string; goal?: string; png?: string; wait: number }) => {
      // the invitee answers at our endpoint: an invitation from an identity without one is unusable
      if (!o.via && !hasEndpoint(await loadIdentity(o.identity)))
        throw new Error(
          `${o.identity} has no service endpoint, so nobody could answer the invitation: make the identity with carrier keys new --service URI, or pass --via URI`,
        )
      await withAgent(o, async (agent) => {
        const invitation = createInvitation({ from: agent.did, goalCode: 'connect', goal: o.goal })
        const url = invitationUrl(invitation)
        let where: { png?: string; frames?: string } = {}
        if (o.png) where = await renderInvitation(url, o.png)
        const shown = where.png
          ? ` (one QR code in ${where.png})`
          : where.frames
            ? ` (too long for one code: animated QR frames in ${where.frames}/)`
            : ''
        ctx.out.result(`${url}${shown}`, { command: 'invite', url, id: invitation.id, ...where })
        const ping = await waitFor(agent, (m) => m.type === PING && m.pthid === invitation.id, o.wait, 'answer to the invitation')
        await agent.send({ id: crypto.randomUUID(), type: PING_RESPONSE, thid: ping.id, body: {} }, { to: ping.from as string })
        ctx.out.result(`connected: ${ping.from}`, { command: 'invite', connected: ping.from, invitation: invitation.id })
      })
    })

  program
    .command('accept')
    .description('accept an out-of-band invitation (URL or QR image): connect back to the inviter and wait for its answer')
    .argument('<invitation>', 'the invitation URL, a PNG image of its QR code, or a folder of its animated frames')
    .requiredOption('--identity <file>', 'our identity (carrier keys new)', file)
    .option('--via <uri>', 'our endpoint, when the identity has none', endpointUri)
    .option('--wait <ms>', 'how long to wait for the inviter’s answer', ms, 30_000)
    .action(async (source: string, o: { identity: string; via?: string; wait: number }) => {
      const invitation = parseInvitationUrl(await invitationSource(source))
      await withAgent(o, async (agent) => {
        const id = crypto.randomUUID()
        const sent = await agent.send(
          { id, type: PING, pthid: invitation.id, body: { response_requested: true } },
          { to: invitation.from as string },
        )
        await waitFor(agent, (m) => m.type === PING_RESPONSE && m.thid === id, o.wait, 'answer from the inviter')
        ctx.out.result(`connected to ${invitation.from} over ${sent.uri}`, {
          command: 'accept',
          connected: invitation.from,
          uri: sent.uri,
          goal: invitation.body?.goal,
        })
      })
    })
}
