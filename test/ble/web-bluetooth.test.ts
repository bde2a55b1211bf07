import { createHash } from 'node:crypto'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EomAssembler, eomChunks } from '../../adapters/ble/eom.js'
import { WebBluetoothLink } from '../../adapters/ble/web.js'
import { createTransport, type Received, type Transport } from '../../src/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'
import { until } from '../support/until.js'
import { EmulatedPeripheral } from './web/emulated-peripheral.js'

// The page's Web Bluetooth central (adapters/ble/web-bluetooth.ts) in headless Debian Chromium,
// against our GATT profile on Chromium's BluetoothEmulation CDP domain. What the central writes
// arrives in Node as wire frames and goes into a real core Transport. The emulation cannot push
// notifications; frames from Node reach the page as answers to reads the page keeps pending
// (test/ble/web/emulated-peripheral.ts), so the real notification path is not shown here.
const chromiumThere = haveChromium()
const FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--enable-features=WebBluetooth']
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function servePage(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const name = req.url === '/harness.js' ? 'harness.js' : 'index.html'
    const type = name.endsWith('.js') ? 'text/javascript' : 'text/html'
    res.writeHead(200, { 'content-type': type }).end(await readFile(join(dir, name)))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

describe.skipIf(!chromiumThere)('Web Bluetooth central in headless Chromium (BluetoothEmulation)', () => {
  let work: string
  let http: { url: string; server: Server }
  let browser: Browser
  let cdp: CDPSession

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'carrier-webble-'))
    const { build } = await import('esbuild')
    await build({
      entryPoints: [join(import.meta.dirname, 'web', 'harness.ts')],
      outfile: join(work, 'harness.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'warning',
    })
    await copyFile(join(import.meta.dirname, 'web', 'index.html'), join(work, 'index.html'))
    http = await servePage(work)
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
    cdp = await browser.newBrowserCDPSession()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((r) => http?.server.close(r))
    if (work) await rm(work, { recursive: true, force: true })
  })

  /** A powered-on emulated adapter with one peripheral (closing a page ends the emulation: it starts afresh each test). */
  async function emulate(
    write: { write?: boolean; writeWithoutResponse?: boolean },
    withNotify = true,
    profile: 'carrier' | 'dif' = 'carrier',
  ): Promise<EmulatedPeripheral> {
    await cdp.send('BluetoothEmulation.disable' as never).catch(() => {})
    await cdp.send('BluetoothEmulation.enable' as never, { state: 'powered-on', leSupported: true } as never)
    return EmulatedPeripheral.create(cdp, { address: '09:09:09:09:09:01', write, withNotify, profile })
  }

  /** A fresh page whose chooser picks the first device offered (DeviceAccess on the page session). */
  async function openPage(pick: 'first' | 'cancel' = 'first'): Promise<Page> {
    const page = await browser.newPage()
    const session = await page.context().newCDPSession(page)
    await session.send('DeviceAccess.enable' as never)
    const answered = new Set<string>()
    session.on(
      'DeviceAccess.deviceRequestPrompted' as never,
      ((e: { id: string; devices: { id: string }[] }) => {
        if (answered.has(e.id) || (pick === 'first' && e.devices.length === 0)) return
        answered.add(e.id)
        const [method, params] =
          pick === 'first'
            ? ['DeviceAccess.selectPrompt', { id: e.id, deviceId: e.devices[0]?.id }]
            : ['DeviceAccess.cancelPrompt', { id: e.id }]
        void session.send(method as never, params as never).catch(() => {})
      }) as never,
    )
    await page.goto(http.url)
    return page
  }

  async function connect(page: Page, options: object = {}): Promise<void> {
    await page.evaluate((o) => {
      window.harness.options = o
    }, options)
    await page.click('#connect')
    await page.waitForFunction(() => window.harness.link !== undefined || window.harness.error !== undefined)
  }

  /** A Node transport on the emulated peripheral, and every message it receives, in order. */
  function nodeSide(peripheral: EmulatedPeripheral): { got: Received[]; transport: Transport } {
    const got: Received[] = []
    const transport = createTransport(peripheral, { closeLink: false })
    void (async () => {
      for await (const r of transport.receive()) got.push(r)
    })()
    return { got, transport }
  }

  for (const c of [
    {
      name: 'without response when the characteristic offers it',
      props: { writeWithoutResponse: true, write: true },
      type: 'write-without-response',
    },
    { name: 'with response when it offers only write', props: { write: true }, type: 'write-with-response' },
  ]) {
    it(`writes ${c.name}: a 64 KB envelope arrives byte-exact in a Node transport`, async () => {
      const peripheral = await emulate(c.props)
      const { got } = nodeSide(peripheral)
      const page = await openPage()
      try {
        await connect(page, { frameSize: 182 })
        expect(await page.evaluate(() => window.harness.error)).toBeUndefined()
        expect(await page.evaluate(() => window.harness.link?.writeType)).toBe(c.type.slice('write-'.length))
        expect(peripheral.operations).toEqual(expect.arrayContaining(['connection', 'discovery']))
        expect(peripheral.operations).toContain('subscribe-to-notifications')
        await page.evaluate(() => window.harness.pollReads())
        const envelope = seededBytes(64 * 1024, 19)
        const report = await page.evaluate((b) => window.harness.send(b), Array.from(envelope))
        expect(got).toHaveLength(1)
        expect(got[0]?.data.length).toBe(envelope.length)
        expect(sha(got[0]?.data as Uint8Array)).toBe(sha(envelope))
        expect(report.confirmed).toBe(true)
        expect(report.transferId).toBe(got[0]?.transferId)
        expect(new Set(peripheral.writes.map((w) => w.writeType))).toEqual(new Set([c.type]))
        expect(Math.max(...peripheral.writes.map((w) => w.bytes))).toBe(182)
      } finally {
        await peripheral.close()
        await page.close()
      }
    }, 120_000)
  }

  it("auto frame size: 20-byte frames until the peer's frames prove more, then those; envelopes both ways", async () => {
    const peripheral = await emulate({ writeWithoutResponse: true })
    const { got, transport } = nodeSide(peripheral)
    const page = await openPage()
    try {
      await connect(page)
      await page.evaluate(() => window.harness.pollReads())
      const first = seededBytes(8 * 1024, 21)
      await page.evaluate((b) => window.harness.send(b), Array.from(first))
      expect(sha(got[0]?.data as Uint8Array)).toBe(sha(first))
      expect(Math.max(...peripheral.writes.map((w) => w.bytes))).toBe(20)
      // Node → page: frames of the peripheral's 182 bytes, through the read stand-in for notifications
      const down = seededBytes(64 * 1024, 22)
      const downReport = await transport.send(down, { compress: false })
      await page.waitForFunction(() => window.harness.received.length > 0)
      const received = await page.evaluate(() => window.harness.received[0])
      expect(received).toEqual({ length: down.length, sha256: sha(down), transferId: downReport.transferId })
      expect(await page.evaluate(() => window.harness.link?.mtu)).toBe(182)
      const before = peripheral.writes.length
      const up = seededBytes(64 * 1024, 23)
      await page.evaluate((b) => window.harness.send(b), Array.from(up))
      expect(got).toHaveLength(2)
      expect(sha(got[1]?.data as Uint8Array)).toBe(sha(up))
      expect(Math.max(...peripheral.writes.slice(before).map((w) => w.bytes))).toBe(182)
    } finally {
      await peripheral.close()
      await page.close()
    }
  }, 120_000)

  it('speaks the DIF/Animo layout when that is what the peer has: a whole envelope each way in EOM-ended chunks, an oversized one refused', async () => {
    const peripheral = await emulate({ write: true, writeWithoutResponse: true }, true, 'dif')
    const messages: Uint8Array[] = []
    const assembler = new EomAssembler(
      1 << 20,
      (m) => void messages.push(m),
      () => {},
    )
    peripheral.onFrame((chunk) => assembler.push(chunk))
    const page = await openPage()
    try {
      await connect(page, { profiles: ['carrier', 'dif'], maxMessageBytes: 4000 })
      expect(await page.evaluate(() => window.harness.link?.profile)).toBe('dif')
      await page.evaluate(() => window.harness.pollReads())
      const mine = new TextEncoder().encode(
        JSON.stringify({ id: '1', type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'x'.repeat(3000) } }),
      )
      await page.evaluate((b) => window.harness.sendMessage(b), Array.from(mine))
      await until(() => messages.length > 0)
      expect(sha(messages[0] as Uint8Array)).toBe(sha(mine))
      expect(Math.max(...peripheral.writes.map((w) => w.bytes))).toBe(20) // auto: nothing heard yet
      // the peer's chunks of 182 bytes: over the page's 4000-byte limit, refused; then one it takes,
      // a plaintext envelope the page's transport receives as a bare one
      const message = (id: string, n: number) =>
        new TextEncoder().encode(
          JSON.stringify({ id, type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'y'.repeat(n) } }),
        )
      for (const chunk of eomChunks(message('2', 5000), 182)) await peripheral.send(chunk)
      await page.waitForFunction(() => window.harness.refused.length > 0)
      expect(await page.evaluate(() => window.harness.refused)).toEqual(['ERR_MESSAGE_TOO_LARGE'])
      const theirs = message('3', 3000)
      for (const chunk of eomChunks(theirs, 182)) await peripheral.send(chunk)
      await page.waitForFunction(() => window.harness.received.length > 0)
      expect(await page.evaluate(() => window.harness.received.map((r) => r.sha256))).toEqual([sha(theirs)])
      expect(await page.evaluate(() => window.harness.link?.chunkSize)).toBe(182)
    } finally {
      await peripheral.close()
      await page.close()
    }
  }, 120_000)

  it('refuses what it cannot use: a cancelled chooser, a bad frame size, a peer without the profile, an oversized frame', async () => {
    const cancelled = await openPage('cancel')
    const peripheral = await emulate({ writeWithoutResponse: true })
    try {
      await connect(cancelled)
      expect(await cancelled.evaluate(() => window.harness.error?.code)).toBe('ERR_BLE_PEER_NOT_FOUND')
    } finally {
      await cancelled.close()
      await peripheral.close()
    }
    // refused before the chooser shows
    for (const bad of [{ frameSize: 10 }, { frameSize: 513 }, { frameSize: 100.5 }, { maxFrameSize: 600 }]) {
      const page = await openPage()
      const p = await emulate({ writeWithoutResponse: true })
      try {
        await connect(page, bad)
        expect(await page.evaluate(() => window.harness.error?.code)).toBe('ERR_INVALID_OPTION')
      } finally {
        await page.close()
        await p.close()
      }
    }
    const lacking = await emulate({ writeWithoutResponse: true }, false)
    const page = await openPage()
    try {
      await connect(page)
      expect(await page.evaluate(() => window.harness.error?.code)).toBe('ERR_BLE_PROFILE')
    } finally {
      await page.close()
      await lacking.close()
    }
    const ok = await emulate({ writeWithoutResponse: true })
    const page2 = await openPage()
    try {
      await connect(page2)
      const code = await page2.evaluate(() =>
        (window.harness.link as WebBluetoothLink).send(new Uint8Array(21)).then(
          () => 'sent',
          (e) => (e as { code: string }).code,
        ),
      )
      expect(code).toBe('ERR_FRAME_TOO_LARGE')
    } finally {
      await page2.close()
      await ok.close()
    }
  }, 120_000)

  it('resumes a transfer after the GATT connection drops mid-transfer, delivered once', async () => {
    const peripheral = await emulate({ writeWithoutResponse: true })
    const { got } = nodeSide(peripheral)
    const page = await openPage()
    try {
      await connect(page, { frameSize: 182 })
      // No reads yet, so nothing can reach the page and the send cannot finish before the drop: the
      // first window goes out optimistically without acks, and the connection drops (after Node
      // saw 100 of the ~270 frames) while no read is pending (see EmulatedPeripheral.disconnect).
      const envelope = seededBytes(48 * 1024, 20)
      const sending = page.evaluate((b) => window.harness.send(b), Array.from(envelope))
      await until(() => peripheral.writes.length >= 100)
      await peripheral.disconnect()
      await page.waitForFunction(() => window.harness.states.includes('up'))
      // now acks can flow: the sender probes, hears what the receiver holds, sends the rest
      await page.evaluate(() => window.harness.pollReads())
      const report = await sending
      await until(() => got.length > 0)
      await new Promise((r) => setTimeout(r, 300)) // a duplicate would arrive within this
      expect(got).toHaveLength(1)
      expect(sha(got[0]?.data as Uint8Array)).toBe(sha(envelope))
      expect(report.confirmed).toBe(true)
      expect(report.transferId).toBe(got[0]?.transferId)
      // resumed, not started over (a receiver that had lost the transfer would have made it restart)
      expect(report.restarts ?? 0).toBe(0)
      const states = await page.evaluate(() => window.harness.states)
      expect(states).toEqual(['connected', 'down: the peripheral disconnected', 'up'])
      // the link connected again by itself (a first try may come before the profile is back)
      expect(peripheral.operations.filter((o) => o === 'connection').length).toBeGreaterThanOrEqual(2)
    } finally {
      await peripheral.close()
      await page.close()
    }
  }, 120_000)
})

describe('Web Bluetooth central: bad inputs', () => {
  it('says so when the runtime has no Web Bluetooth', async () => {
    await expect(WebBluetoothLink.request()).rejects.toMatchObject({ code: 'ERR_BLE_NO_WEB_BLUETOOTH' })
  })
})
