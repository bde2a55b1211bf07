import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { makeMqttEndpoint, newInboxKey, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { textToModules } from '../../adapters/qr/index.js'
import { buildWebPages } from '../../adapters/qr/web/build.js'
import { createRoutedPeerDid } from '../../src/agent/mediation.js'
import { createAgent } from '../../src/agent.js'
import { createPeerDid, didPeerResolver } from '../../src/did/peer.js'
import { createInvitation, invitationUrl } from '../../src/didcomm/oob.js'
import { mediatorIdentity } from '../../src/mediator/mediator.js'
import { TRUST_PING, TRUST_PING_RESPONSE } from '../../src/protocols/trust-ping.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'
import { stopChild } from '../support/child.js'
import { renderMjpegLoop } from '../support/mjpeg.js'
import { tempDir } from '../support/temp.js'
import { carrier, daemon } from './cli.js'

// The browser wallet (carrier web) in headless Debian Chromium with a fresh profile: mediation
// from a `carrier mediator` process over WebSocket, a message from a CLI agent over MQTT (an
// embedded broker) answered from the page, and an invitation read from Chromium's fake camera.
const chromiumThere = haveChromium()
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

/** An agent with an HTTP endpoint and an invitation; `pinged` resolves with who answered it (a trust ping, answered). */
async function invitingAgent() {
  const web = await webEndpointTransport({ listen: {} })
  const inviter = createAgent({
    identity: createPeerDid({ service: { uri: (web.server as NonNullable<typeof web.server>).url } }),
    resolver: didPeerResolver,
    transports: [web],
  })
  const invitation = createInvitation({ from: inviter.did, goalCode: 'connect' })
  const pinged = (async () => {
    for await (const { message } of inviter.messages())
      if (message.type === TRUST_PING && message.pthid === invitation.id) {
        await inviter.send(
          { id: crypto.randomUUID(), type: TRUST_PING_RESPONSE, thid: message.id, body: {} },
          { to: message.from as string },
        )
        return message.from
      }
  })()
  return { inviter, invitation, pinged }
}

describe.skipIf(!chromiumThere)('the browser wallet', () => {
  it('gets mediation over WebSocket, receives a CLI agent’s MQTT message, replies to it, and connects to an invitation read from the camera', async () => {
    const dir = tempDir('carrier-wallet-')
    const broker = await startEmbeddedBroker()
    const children: ChildProcess[] = []
    const { inviter, invitation, pinged } = await invitingAgent()
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${join(dir, 'invitation.mjpeg')}`,
      ],
    })
    try {
      await writeFile(
        join(dir, 'invitation.mjpeg'),
        renderMjpegLoop([textToModules(invitationUrl(invitation), { ecc: 'L' })], { scale: 4, framesPerCode: 30 }),
      )
      // the mediator: MQTT first in its DID document (what a sender with MQTT uses), then HTTP and WebSocket
      const port = await freePort()
      const mediatorFile = join(dir, 'mediator.json')
      const mqttInbox = makeMqttEndpoint(broker.url, newInboxKey())
      const med = mediatorIdentity([mqttInbox, `http://127.0.0.1:${port}/`, `ws://127.0.0.1:${port}/`])
      await writeFile(mediatorFile, JSON.stringify(med))
      const mediator = daemon('mediator', '--http', `127.0.0.1:${port}`, '--ws', '--mqtt', broker.url, '--identity', mediatorFile)
      children.push(mediator.proc)
      expect(await mediator.next((e) => e.command === 'mediator')).toMatchObject({ did: med.did })
      // the wallet's pages, built and served by `carrier web`
      const web = daemon('web', '--port', '0', '--mediator', med.did, '--dir', await buildWebPages(join(dir, 'web')))
      children.push(web.proc)
      const walletUrl = (await web.next((e) => e.command === 'web')).wallet as string
      expect(walletUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/wallet\.html\?mediator=did%3Apeer%3A2/)
      // the CLI agent: reached through the same mediator, listening there (live over WebSocket)
      const cliFile = join(dir, 'cli.json')
      const cli = createRoutedPeerDid(med.did)
      await writeFile(cliFile, JSON.stringify(cli))
      const listen = daemon('listen', '--identity', cliFile, '--mediator', med.did, '--out', join(dir, 'in'), '--count', '1')
      children.push(listen.proc)
      await listen.next((e) => e.event === 'ready')

      const page = await context.newPage()
      const pageErrors: string[] = []
      page.on('pageerror', (e) => pageErrors.push(e.message))
      await page.goto(walletUrl)
      await page.waitForFunction(() => window.carrierWallet.pickup !== undefined || window.carrierWallet.errors.length > 0)
      const first = await page.evaluate(() => ({ ...window.carrierWallet }))
      expect(first.errors).toEqual([])
      expect(first.pickup).toBe('live')
      expect(first.did).toMatch(/^did:peer:2\./)
      // the identity is kept: a reload (same profile) is the same DID
      await page.reload()
      await page.waitForFunction(() => window.carrierWallet.pickup !== undefined || window.carrierWallet.errors.length > 0)
      expect(await page.evaluate(() => window.carrierWallet.did)).toBe(first.did)

      const sent = await carrier('send', '--identity', cliFile, '--to', first.did as string, '--text', 'hello wallet')
      expect(sent.stderr).toBe('')
      expect(JSON.parse(sent.stdout)).toMatchObject({ command: 'send', uri: mqttInbox })
      // a stranger's message: a contact (unnamed: its DID shortened) whose conversation holds it
      await page.locator(`#contacts button[data-did="${cli.did}"]`).click()
      await page.locator('#messages li.in', { hasText: 'hello wallet' }).waitFor()
      expect(await page.evaluate(() => window.carrierWallet.received)).toEqual([
        { from: cli.did, text: 'hello wallet', files: [] },
      ])
      expect(await page.evaluate(() => window.carrierWallet.open)).toBe(cli.did)
      await page.fill('#text', 'hello CLI')
      await page.click('#send-button')
      await page.locator('#messages li.out', { hasText: 'hello CLI' }).locator('.state.sent').waitFor()
      const got = await listen.next((e) => e.event === 'message')
      expect(got).toMatchObject({ type: 'https://didcomm.org/basicmessage/2.0/message', from: first.did })
      const saved = readdirSync(join(dir, 'in')).find((f) => f.endsWith('.json')) as string
      expect(JSON.parse(readFileSync(join(dir, 'in', saved), 'utf8')).body.content).toBe('hello CLI')

      await page.click('#scan')
      await page.waitForFunction(
        () => window.carrierWallet.connected.length > 0 || window.carrierWallet.errors.length > 0,
        undefined,
        {
          timeout: 60_000,
        },
      )
      expect(await page.evaluate(() => window.carrierWallet.errors)).toEqual([])
      expect(await page.evaluate(() => window.carrierWallet.connected)).toEqual([inviter.did])
      expect(await pinged).toBe(first.did)
      // the inviter is a contact now, its conversation open and asking for a name (the invitation had no label)
      expect(await page.evaluate(() => window.carrierWallet.open)).toBe(inviter.did)
      expect(await page.isVisible('#name-contact')).toBe(true)
      expect(pageErrors).toEqual([])
    } finally {
      await context.close()
      for (const c of children) await stopChild(c)
      await inviter.close()
      await broker.close()
    }
  }, 300_000)

  it('polls a mediator without WebSocket, takes a file from the CLI and sends one back; an invitation link connects, no mediator or a bad ?_oob= link is said on the page', async () => {
    const dir = tempDir('carrier-wallet-')
    const children: ChildProcess[] = []
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
    try {
      const mediator = daemon('mediator', '--http', '127.0.0.1:0', '--store', 'memory:')
      children.push(mediator.proc)
      const med = (await mediator.next((e) => e.command === 'mediator')).did as string
      const web = daemon('web', '--port', '0', '--mediator', med, '--dir', await buildWebPages(join(dir, 'web')))
      children.push(web.proc)
      const walletUrl = (await web.next((e) => e.command === 'web')).wallet as string
      const cliFile = join(dir, 'cli.json')
      const cli = createRoutedPeerDid(med)
      await writeFile(cliFile, JSON.stringify(cli))
      const listen = daemon(
        'listen',
        '--identity',
        cliFile,
        '--mediator',
        med,
        '--out',
        join(dir, 'in'),
        '--count',
        '1',
        '--poll',
        '200',
      )
      children.push(listen.proc)
      await listen.next((e) => e.event === 'ready')

      const page = await context.newPage()
      // first visit without a mediator: nothing to route through, said so
      await page.goto(walletUrl.replace(/\?.*/, ''))
      await page.waitForFunction(() => window.carrierWallet.errors.length > 0)
      expect(await page.evaluate(() => window.carrierWallet.errors)).toEqual([
        'wallet: open this page with ?mediator=<the mediator DID> (carrier web prints it)',
      ])
      // a link whose _oob is not an invitation: mediation still set up (polling), the link refused
      await page.goto(`${walletUrl}&_oob=bm90IGpzb24`)
      await page.waitForFunction(() => window.carrierWallet.errors.length > 0)
      const state = await page.evaluate(() => ({ ...window.carrierWallet }))
      expect(state.errors).toEqual(['invitation: _oob is not base64url JSON'])
      expect(state.pickup).toBe('polling')
      // an invitation opened as a link: connected (its trust ping answered)
      const { inviter, invitation, pinged } = await invitingAgent()
      try {
        await page.goto(`${walletUrl}&_oob=${new URL(invitationUrl(invitation)).searchParams.get('_oob')}`)
        await page.waitForFunction(() => window.carrierWallet.connected.length > 0 || window.carrierWallet.errors.length > 0)
        expect(await page.evaluate(() => window.carrierWallet)).toMatchObject({ errors: [], connected: [inviter.did] })
        expect(await pinged).toBe(state.did)
      } finally {
        await inviter.close()
      }

      const report = join(dir, 'report.pdf')
      const bytes = new Uint8Array(3000).map((_, i) => (i * 7) % 256)
      await writeFile(report, bytes)
      const sent = await carrier(
        'send-file',
        report,
        '--anon',
        '--identity',
        cliFile,
        '--to',
        state.did as string,
        '--media-type',
        'application/pdf',
      )
      expect(sent.stderr).toBe('')
      await page.locator('#contacts button[data-did="anonymous"]').click()
      await page.locator('#messages li a[download="report.pdf"]').waitFor()
      expect(await page.evaluate(() => window.carrierWallet.received)).toEqual([
        { text: undefined, files: [{ filename: 'report.pdf', bytes: 3000 }] },
      ])
      // nobody to answer: the composer is off
      expect(await page.isDisabled('#send-button')).toBe(true)

      // a contact added by its DID and named by the user
      await page.click('#add-contact-toggle')
      await page.fill('#contact-name', 'CLI agent')
      await page.fill('#contact-did', cli.did)
      await page.click('#add-contact button[type=submit]')
      expect(await page.evaluate(() => window.carrierWallet.open)).toBe(cli.did)
      expect(await page.textContent('#chat-name')).toBe('CLI agent')
      await page.setInputFiles('#file', { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('from the wallet') })
      await page.click('#send-button')
      const got = await listen.next((e) => e.event === 'message')
      expect(got).toMatchObject({ type: 'https://didcomm.org/file-transfer/1.0/file', from: state.did, files: ['note.txt'] })
      expect(readFileSync(join(dir, 'in', 'note.txt'), 'utf8')).toBe('from the wallet')
      await page.locator('#messages li.out a[download="note.txt"]').locator('xpath=..').locator('.state.sent').waitFor()
      // kept across visits: the contact, its name and the conversation (file links are for this visit only)
      await page.reload()
      await page.waitForFunction(() => window.carrierWallet.pickup !== undefined)
      expect(await page.evaluate(() => window.carrierWallet.contacts?.find((c) => c.name === 'CLI agent')?.did)).toBe(cli.did)
      await page.locator(`#contacts button[data-did="${cli.did}"]`).click()
      await page.locator('#messages li.out', { hasText: 'note.txt' }).locator('.state.sent').waitFor()
    } finally {
      await context.close()
      for (const c of children) await stopChild(c)
    }
  }, 300_000)
})
