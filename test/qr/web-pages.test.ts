import { createHash } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodePng, QrCameraLink, type QrCode, QrDisplayLink } from '../../adapters/qr/index.js'
import { buildWebPages } from '../../adapters/qr/web/build.js'
import { type QrPagesServer, serveQrPages } from '../../adapters/qr/web/serve.js'
import { createTransport, type Received } from '../../src/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'
import { renderMjpegLoop } from '../support/mjpeg.js'
import { tempDir } from '../support/temp.js'

// The web sender and scanner pages in headless Debian Chromium, driven by playwright-core; the
// scanner's camera is Chromium's fake device playing an MJPEG loop rendered here.
const chromiumThere = haveChromium()
const ARTIFACTS = join(process.cwd(), 'test-artifacts')
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Headless, with a fresh profile of playwright's own each time. */
async function launch(extra: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_FLAGS, ...extra] })
}

/** The animated loop a screen would show: 1.5 K + 10 fountain-coded v25-L codes of the envelope. */
async function loopOf(envelope: Uint8Array): Promise<QrCode[]> {
  const codes: QrCode[] = []
  const link = new QrDisplayLink({ version: 25, show: (c) => void codes.push(c) })
  await createTransport(link).send(envelope, { frameBudget: Math.ceil((1.5 * envelope.length) / 1260) + 10 })
  return codes
}

describe.skipIf(!chromiumThere)('web pages in headless Chromium', () => {
  let work: string
  let pages: QrPagesServer
  const envelope = seededBytes(100 * 1024, 2026)

  beforeAll(async () => {
    work = tempDir('carrier-web-')
    await mkdir(ARTIFACTS, { recursive: true })
    pages = await serveQrPages({ dir: await buildWebPages(join(work, 'web')) })
  }, 120_000)

  afterAll(async () => {
    await pages?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  for (const loop of [
    { name: 'clean', blur: 0, quality: 85 },
    { name: 'blurred, JPEG-compressed', blur: 2, quality: 35 },
  ]) {
    it(`scanner page receives a 100 KB envelope byte-exact from a ${loop.name} camera loop`, async () => {
      const video = join(work, `${loop.name.split(',')[0]}.mjpeg`)
      await writeFile(video, renderMjpegLoop(await loopOf(envelope), { blur: loop.blur, quality: loop.quality }))
      const browser = await launch([
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ])
      try {
        const page = await browser.newPage()
        const errors: string[] = []
        page.on('pageerror', (e) => errors.push(e.message))
        await page.goto(`${pages.url}scanner.html`)
        await page.waitForFunction(() => window.carrierScanner.messages.length > 0, undefined, { timeout: 150_000 })
        const got = await page.evaluate(() => {
          const m = window.carrierScanner.messages[0] as { data: Uint8Array; sha256: string; mediaType: string }
          return { sha256: m.sha256, length: m.data.length, stats: window.carrierScanner.stats }
        })
        await page.screenshot({ path: join(ARTIFACTS, `scanner-${loop.blur ? 'blurred' : 'clean'}.png`), fullPage: true })
        console.log(`scanner (${loop.name}): ${JSON.stringify(got.stats)}`)
        expect(errors).toEqual([])
        expect(got.length).toBe(envelope.length)
        expect(got.sha256).toBe(sha(envelope))
        // the worker was busy for part of the camera frames, and those were skipped, not queued
        expect(got.stats.decoded).toBeGreaterThanOrEqual(got.stats.k)
        expect(await page.locator('#received a').count()).toBe(1)
        expect(await page.locator('#received a').getAttribute('download')).toMatch(/^message-1\./)
      } finally {
        await browser.close()
      }
    }, 240_000)
  }

  it('sender page: a pasted envelope becomes canvas codes that decode back byte-exact in Node', async () => {
    const browser = await launch()
    try {
      const page = await browser.newPage()
      await page.goto(`${pages.url}sender.html`)
      const text = JSON.stringify({
        protected: 'eyJ0eXAiOiJhcHBsaWNhdGlvbi9kaWRjb21tLWVuY3J5cHRlZCtqc29uIn0',
        pad: 'x'.repeat(5000),
      })
      await page.fill('#envelope', text)
      await page.fill('#fps', '30')
      await page.selectOption('#version', '10')
      await page.evaluate(() => {
        const w = window as unknown as { codes: string[] }
        w.codes = []
        window.carrierSender.onCode = () => w.codes.push((document.getElementById('qr') as HTMLCanvasElement).toDataURL())
      })
      await page.click('#start')
      const camera = new QrCameraLink()
      const got = new Promise<Received>((resolve) => {
        void (async () => {
          for await (const r of createTransport(camera).receive()) return resolve(r)
        })()
      })
      let done = false
      void got.then(() => (done = true))
      let read = 0
      while (!done && read < 200) {
        const batch = await page.evaluate((from) => (window as unknown as { codes: string[] }).codes.slice(from), read)
        for (const url of batch) {
          await camera.feed(decodePng(Buffer.from(url.split(',')[1] as string, 'base64')))
          read++
        }
        if (!batch.length) await new Promise((r) => setTimeout(r, 100))
      }
      await page.screenshot({ path: join(ARTIFACTS, 'sender.png'), fullPage: true })
      await page.click('#stop')
      const r = await got
      expect(new TextDecoder().decode(r.data)).toBe(text)
      expect(await page.textContent('#status')).toMatch(/QR v10-L/)
    } finally {
      await browser.close()
    }
  }, 120_000)
})
