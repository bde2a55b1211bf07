import type { ChildProcess } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { blobAccess, uploadBlob } from '../../adapters/http/blob-client.js'
import { buildWebPages } from '../../adapters/qr/web/build.js'
import { type EncryptedShare, shareMessage } from '../../src/files/share.js'
import { cipherBytesOf, newStreamParams, sealAll } from '../../src/files/stream-aead.js'
import { plainSender } from '../blobs/support.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'
import { stopChild } from '../support/child.js'
import { tempDir } from '../support/temp.js'
import { carrier, daemon } from './cli.js'

// The browser wallet receives files that waited for it at its mediator (send-file to an offline
// recipient): a real `carrier mediator`, a real `carrier send-file` while the page is closed, the
// page in headless Chromium fetching, verifying and confirming; and a share that lies about its hash.
/** 3 MiB; WALLET_BLOB_MB changes it (measuring larger files by hand). */
const SIZE = Number(process.env.WALLET_BLOB_MB ?? 3) * 1024 * 1024
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe.skipIf(!haveChromium())('the browser wallet and files waiting at the mediator', () => {
  it('fetches a file sent while the page was closed (a cut response resumed by Range, byte-exact, the blob deleted), one a closed page left, and refuses one whose hash does not match and one too large for a page', async () => {
    const dir = tempDir('carrier-wallet-blob-')
    const children: ChildProcess[] = []
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
    const sender = await plainSender()
    try {
      const mediator = daemon('mediator', '--http', '127.0.0.1:0', '--store', 'memory:')
      children.push(mediator.proc)
      const med = (await mediator.next((e) => e.command === 'mediator')).did as string
      const web = daemon('web', '--port', '0', '--mediator', med, '--dir', await buildWebPages(join(dir, 'web')))
      children.push(web.proc)
      const walletUrl = (await web.next((e) => e.command === 'web')).wallet as string

      // the wallet's first visit makes its DID (routed through the mediator); then the page closes
      let page = await context.newPage()
      await page.goto(walletUrl)
      await page.waitForFunction(() => window.carrierWallet.pickup !== undefined || window.carrierWallet.errors.length > 0)
      const walletDid = (await page.evaluate(() => window.carrierWallet.did)) as string
      expect(await page.evaluate(() => window.carrierWallet.errors)).toEqual([])
      await page.close()

      // 3 MiB of fixed content (AES-256-CTR of zeros under a fixed key), sent while nobody listens
      const plain = new Uint8Array(
        createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 9)).update(Buffer.alloc(SIZE)),
      )
      writeFileSync(join(dir, 'photos.zip'), plain)
      const alice = join(dir, 'alice.json')
      expect((await carrier('keys', 'new', '--out', alice)).status).toBe(0)
      const aliceDid = JSON.parse(readFileSync(alice, 'utf8')).did as string
      const sent = await carrier('send-file', join(dir, 'photos.zip'), '--identity', alice, '--to', walletDid)
      expect(sent.stderr).toBe('')
      expect(sent.status).toBe(0)
      const queued = sent.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e.event === 'queued') as { url: string; sha256: string }
      expect(queued.sha256).toBe(sha(plain))

      // the page again: it picks the share up, fetches the ciphertext by Range with its token, checks, confirms
      page = await context.newPage()
      const pageErrors: string[] = []
      page.on('pageerror', (e) => pageErrors.push(e.message))
      let token = ''
      const ranges: string[] = []
      page.on('request', (r) => {
        if (r.url() === queued.url && r.method() === 'GET')
          void r.allHeaders().then((h) => {
            token = h.authorization ?? token
            ranges.push(h.range ?? '')
          })
      })
      // the first response is cut after 1,000,000 bytes: the download goes on from there
      const CUT = 1_000_000
      await page.route(
        queued.url,
        async (route) => {
          const whole = await route.fetch()
          const body = (await whole.body()).subarray(0, CUT)
          await route.fulfill({ status: 206, headers: { ...whole.headers(), 'content-length': String(CUT) }, body })
        },
        { times: 1 },
      )
      await page.goto(walletUrl)
      await page.waitForFunction(() => window.carrierWallet.fetched.length > 0, undefined, { timeout: 60_000 })
      expect(await page.evaluate(() => window.carrierWallet.fetched)).toEqual([
        { filename: 'photos.zip', bytes: SIZE, sha256: sha(plain) },
      ])
      await page.locator(`#contacts button[data-did="${aliceDid}"]`).click()
      const link = page.locator('#messages li.in a[download="photos.zip"]')
      await link.waitFor()
      await page.locator('#messages li.in .state.received').waitFor()
      // the bytes the link offers, read back in the page
      const offered = await link.evaluate(async (a: HTMLAnchorElement) => {
        const b = new Uint8Array(await (await fetch(a.href)).arrayBuffer())
        const h = new Uint8Array(await crypto.subtle.digest('SHA-256', b))
        return { bytes: b.length, sha256: Array.from(h, (x) => x.toString(16).padStart(2, '0')).join('') }
      })
      expect(offered).toEqual({ bytes: SIZE, sha256: sha(plain) })
      expect(ranges).toEqual(['bytes=0-', `bytes=${CUT}-`])
      // confirmed: the mediator deleted the blob, the page's own token gets nothing now
      expect(token).toMatch(/^Bearer /)
      const again = await fetch(queued.url, { headers: { authorization: token, range: 'bytes=0-' } })
      expect(again.status).toBe(404)
      await again.body?.cancel()

      // a download the page could not finish (the blob's URL unreachable) continues at the next visit
      writeFileSync(join(dir, 'notes.txt'), plain.subarray(0, 100_000))
      const cut = /\/blobs\//
      let refusedFetch: () => void = () => {}
      const refusedOnce = new Promise<void>((r) => {
        refusedFetch = r
      })
      await page.route(cut, (route) => {
        refusedFetch()
        return route.abort('connectionrefused')
      })
      const second = await carrier('send-file', join(dir, 'notes.txt'), '--identity', alice, '--to', walletDid)
      expect(second.status).toBe(0)
      await page.locator('#messages li.in', { hasText: 'notes.txt' }).locator('.state.receiving').waitFor({ timeout: 60_000 })
      await refusedOnce
      await page.unroute(cut)
      await page.reload()
      await page.waitForFunction(() => window.carrierWallet.fetched.length > 0, undefined, { timeout: 60_000 })
      expect(await page.evaluate(() => window.carrierWallet.fetched)).toEqual([
        { filename: 'notes.txt', bytes: 100_000, sha256: sha(plain.subarray(0, 100_000)) },
      ])
      await page.locator(`#contacts button[data-did="${aliceDid}"]`).click()
      await page.locator('#messages li.in', { hasText: 'notes.txt' }).locator('.state.received').waitFor()
      expect(await page.locator('#messages li.in a[download="notes.txt"]').count()).toBe(1)

      // a share whose ciphertext verifies but whose plaintext is not the one announced
      const params = newStreamParams()
      const bytes = new Uint8Array(200_000).map((_, i) => (i * 31) % 251)
      const cipher = sealAll(params, bytes)
      const hash = sha(cipher)
      const grant = blobAccess(sender, med, { op: 'put', hash, size: cipher.length, recipients: [walletDid] })
      await uploadBlob({
        access: grant,
        size: cipher.length,
        source: async function* (offset) {
          yield cipher.subarray(offset)
        },
      })
      const lie: EncryptedShare = {
        id: crypto.randomUUID(),
        filename: 'invoice.pdf',
        mediaType: 'application/pdf',
        plainBytes: bytes.length,
        plainSha256: sha(new TextEncoder().encode('something else')),
        cipherBytes: cipher.length,
        cipherSha256: hash,
        params,
        links: [queued.url.replace(/[0-9a-f]{64}$/, hash)],
      }
      await sender.send(shareMessage(lie), { to: walletDid })
      await page.waitForFunction(() => window.carrierWallet.fetched.length > 1, undefined, { timeout: 60_000 })
      const refused = (await page.evaluate(() => window.carrierWallet.fetched))[1]
      expect(refused).toMatchObject({ filename: 'invoice.pdf', bytes: 0 })
      expect(refused?.error).toMatch(/^ERR_FILE_INTEGRITY: invoice\.pdf: the decrypted file's SHA-256 is not the one announced/)
      await page.locator(`#contacts button[data-did="${sender.did}"]`).click()
      const item = page.locator('#messages li.in', { hasText: 'invoice.pdf' })
      await item.locator('.state.failed').waitFor()
      expect(await item.locator('.error').textContent()).toMatch(/SHA-256 is not the one announced/)
      expect(await item.locator('a').count()).toBe(0)
      // one larger than a page holds: refused before anything is downloaded
      const huge = 300 * 1024 * 1024
      await sender.send(
        shareMessage({
          ...lie,
          id: crypto.randomUUID(),
          filename: 'huge.iso',
          plainBytes: huge,
          cipherBytes: cipherBytesOf(huge, params.segmentBytes),
          cipherSha256: sha(new TextEncoder().encode('no such blob')),
        }),
        { to: walletDid },
      )
      await page.waitForFunction(() => window.carrierWallet.fetched.length > 2, undefined, { timeout: 60_000 })
      expect((await page.evaluate(() => window.carrierWallet.fetched))[2]?.error).toMatch(/^ERR_FILE_TOO_LARGE: huge\.iso/)
      const big = page.locator('#messages li.in', { hasText: 'huge.iso' })
      await big.locator('.state.failed').waitFor()
      expect(await big.locator('a').count()).toBe(0)
      expect(pageErrors).toEqual([])
    } finally {
      await context.close()
      for (const c of children) await stopChild(c)
      await sender.close()
    }
  }, 180_000)
})
