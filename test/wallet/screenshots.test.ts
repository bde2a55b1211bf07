import type { ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { decodePng, decodeQrTextWasm, textToModules } from '../../adapters/qr/index.js'
import { buildWebPages } from '../../adapters/qr/web/build.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'
import { stopChild } from '../support/child.js'
import { renderMjpegLoop } from '../support/mjpeg.js'
import { tempDir } from '../support/temp.js'
import { daemon } from './cli.js'

// Two wallets people would keep, in headless Debian Chromium: Alice on a phone (390×844), Bob on a
// desktop (1280×800), both through a `carrier mediator` with live pickup. Bob opens Alice's
// invitation link, they write to each other and Alice sends a file. Any console error, page error,
// failed request or HTTP error status fails the test; the screenshots are saved in
// test-artifacts/wallet/ (ignored by git) and the layout facts asserted on the page.
const SHOTS = join(process.cwd(), 'test-artifacts', 'wallet')
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }

/** Everything that went wrong on a page: console errors, uncaught errors, failed requests, 4xx/5xx. */
function watch(page: Page, who: string, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${who} console: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`))
  page.on('requestfailed', (r) => problems.push(`${who} request failed: ${r.url()} ${r.failure()?.errorText}`))
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${who} HTTP ${r.status()}: ${r.url()}`)
  })
}

/** Layout facts: no horizontal overflow, no DID written out in full anywhere on the page. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const w = window.carrierWallet
    const text = document.body.innerText
    return {
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      ownDid: document.querySelector('#did code')?.textContent,
      fullDids: [w.did, ...(w.contacts ?? []).map((c) => c.did)].filter((d) => d && text.includes(d)),
    }
  })
}

async function walletPage(context: BrowserContext, url: string, who: string, problems: string[]): Promise<Page> {
  const page = await context.newPage()
  watch(page, who, problems)
  await page.goto(url)
  await page.waitForFunction(() => window.carrierWallet.pickup !== undefined || window.carrierWallet.errors.length > 0)
  expect(await page.evaluate(() => window.carrierWallet.errors)).toEqual([])
  return page
}

describe.skipIf(!haveChromium())('the wallet, seen at a phone and a desktop size', () => {
  it('shows contacts named from the invitation, a conversation with sent and received items and their states, a scannable invitation QR code; no overflow, no console error, no failed request', async () => {
    const dir = tempDir('carrier-wallet-shots-')
    await mkdir(SHOTS, { recursive: true })
    const children: ChildProcess[] = []
    const problems: string[] = []
    // the fake camera shows a QR code that is not an invitation: the scan view stays open until cancelled
    const camera = join(dir, 'camera.mjpeg')
    await writeFile(camera, renderMjpegLoop([textToModules('not an invitation', { ecc: 'L' })], { scale: 6, framesPerCode: 30 }))
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${camera}`,
      ],
    })
    try {
      const mediator = daemon('mediator', '--http', '127.0.0.1:0', '--ws', '--store', 'memory:', '--threads', '0')
      children.push(mediator.proc)
      const med = (await mediator.next((e) => e.command === 'mediator')).did as string
      const web = daemon('web', '--port', '0', '--mediator', med, '--dir', await buildWebPages(join(dir, 'web')))
      children.push(web.proc)
      const walletUrl = (await web.next((e) => e.command === 'web')).wallet as string

      const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
      const desktop = await browser.newContext({ viewport: DESKTOP })
      const alice = await walletPage(phone, walletUrl, 'alice', problems)
      const bob = await walletPage(desktop, walletUrl, 'bob', problems)
      const aliceDid = (await alice.evaluate(() => window.carrierWallet.did)) as string
      const bobDid = (await bob.evaluate(() => window.carrierWallet.did)) as string

      // the camera view on the phone, cancelled
      await alice.click('#scan')
      await alice.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0)
      await alice.screenshot({ path: join(SHOTS, 'phone-scan.png'), fullPage: true })
      expect(await layout(alice)).toMatchObject({ overflow: 0 })
      await alice.click('#stop-scan')
      expect(await alice.isHidden('#camera')).toBe(true)

      // Alice names herself and shows her invitation: the QR code on the page reads back as its link
      await alice.fill('#my-name', 'Alice')
      await alice.press('#my-name', 'Tab')
      await alice.click('#show-invite')
      const invitation = (await alice.evaluate(() => window.carrierWallet.invitation)) as string
      expect(invitation).toMatch(/\/wallet\.html\?_oob=/)
      await alice.screenshot({ path: join(SHOTS, 'phone-invitation.png'), fullPage: true })
      const qrPng = await alice.locator('#invite-qr').screenshot()
      expect(await decodeQrTextWasm(decodePng(new Uint8Array(qrPng)))).toBe(invitation)

      // Bob opens it as a link: Alice is a contact named by the invitation's label, her conversation open
      await bob.goto(`${walletUrl}&_oob=${new URL(invitation).searchParams.get('_oob')}`)
      await bob.waitForFunction(() => window.carrierWallet.connected.length > 0 || window.carrierWallet.errors.length > 0)
      expect(await bob.evaluate(() => window.carrierWallet.errors)).toEqual([])
      expect(await bob.evaluate(() => window.carrierWallet.open)).toBe(aliceDid)
      expect(await bob.textContent('#chat-name')).toBe('Alice')
      await bob.fill('#text', 'Hi Alice, it is Bob. Did the invitation work?')
      await bob.click('#send-button')
      await bob.locator('#messages li.out .state.sent').waitFor()

      // Alice: Bob is a contact (he accepted her invitation) to be named; she names him and answers with text and a file
      await alice.locator(`#contacts button[data-did="${bobDid}"]`).waitFor()
      await alice.screenshot({ path: join(SHOTS, 'phone-contacts.png'), fullPage: true })
      expect(await layout(alice)).toMatchObject({ overflow: 0, fullDids: [] })
      await alice.click(`#contacts button[data-did="${bobDid}"]`)
      await alice.locator('#messages li.in', { hasText: 'Did the invitation work?' }).waitFor()
      expect(await alice.isVisible('#name-contact')).toBe(true)
      await alice.fill('#contact-rename', 'Bob')
      await alice.click('#name-contact button[type=submit]')
      expect(await alice.textContent('#chat-name')).toBe('Bob')
      await alice.fill('#text', 'It did! Here is the note from earlier.')
      await alice.setInputFiles('#file', { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('a short note') })
      await alice.click('#send-button')
      await alice.locator('#messages li.out .state.sent').nth(1).waitFor()

      await bob.locator('#messages li.in a[download="note.txt"]').waitFor()
      expect(
        await bob.evaluate(
          (did) => window.carrierWallet.items?.(did).map((i) => [i.dir, i.text ?? i.files?.[0]?.filename, i.state]),
          aliceDid,
        ),
      ).toEqual([
        ['out', 'Hi Alice, it is Bob. Did the invitation work?', 'sent'],
        ['in', 'It did! Here is the note from earlier.', undefined],
        ['in', 'note.txt', undefined],
      ])
      await alice.screenshot({ path: join(SHOTS, 'phone-conversation.png'), fullPage: true })
      await bob.screenshot({ path: join(SHOTS, 'desktop-conversation.png'), fullPage: true })

      for (const [who, page] of [
        ['alice', alice],
        ['bob', bob],
      ] as const) {
        const facts = await layout(page)
        expect(facts, who).toMatchObject({ overflow: 0, fullDids: [] })
        expect(facts.ownDid, who).toMatch(/^did:peer:2\.Ez…[\w-]{4}$/)
        // the conversation holds a sent item with its state and a received one
        expect(await page.locator('#messages li.out .state').first().textContent(), who).toBe('sent')
        expect(await page.locator('#messages li.in').count(), who).toBeGreaterThan(0)
      }
      // shortened DIDs still tell wallets apart (routed did:peer:2 of one mediator all end alike)
      expect((await layout(alice)).ownDid).not.toBe((await layout(bob)).ownDid)
      // the phone shows one pane (the conversation), the desktop both side by side
      expect(await alice.isVisible('#home')).toBe(false)
      expect(await bob.isVisible('#home')).toBe(true)
      const [list, chat] = await Promise.all([bob.locator('#home').boundingBox(), bob.locator('#chat').boundingBox()])
      expect(chat?.x).toBeGreaterThan((list?.x ?? 0) + (list?.width ?? 0) - 1)
      expect(problems).toEqual([])
    } finally {
      await browser.close()
      for (const c of children) await stopChild(c)
    }
  }, 300_000)
})
