import { describe, expect, it } from 'vitest'
import {
  byteCapacity,
  decodePng,
  decodeQrBytes,
  decodeQrBytesFixed,
  decodeQrBytesWasm,
  decodeQrTextWasm,
  encodePng,
  frameToModules,
  modulesToImage,
  modulesToSvg,
  modulesToTerminal,
  QrCameraLink,
  QrDisplayLink,
  textToModules,
  UrReceiver,
  urParts,
} from '../../adapters/qr/index.js'
import { createTransport, type Received } from '../../src/index.js'
import { seededBytes, seededRandom } from '../../src/testing/prng.js'
import { degradeQr } from '../../src/testing/qr-degrade.js'
import { tempDir } from '../support/temp.js'

describe('QR codes as frames', () => {
  it('a binary frame survives render → PNG → decode byte-exact (byte mode, not text)', () => {
    const frame = seededBytes(858, 3) // every byte value, v20-L full
    const png = encodePng(modulesToImage(frameToModules(frame, { version: 20 }), { scale: 3 }))
    expect(decodeQrBytes(decodePng(png))).toEqual(frame)
  })

  it('ignores images without a code', () => {
    expect(decodeQrBytes({ width: 100, height: 100, data: new Uint8Array(10_000).fill(200) })).toBeUndefined()
  })

  it('a 100 KB envelope crosses rendered PNG frames with 30 % of the frames dropped', async () => {
    const envelope = seededBytes(100 * 1024, 100)
    const rnd = seededRandom(30)
    const camera = new QrCameraLink()
    const progress: number[] = []
    const receiver = createTransport(camera, { onProgress: (p) => progress.push(p.received / p.total) })
    let shown = 0
    let dropped = 0
    const display = new QrDisplayLink({
      version: 25,
      show: async (code) => {
        shown++
        if (rnd() < 0.3) {
          dropped++
          return
        }
        const png = encodePng(modulesToImage(code, { scale: 2 }))
        await camera.feed(decodePng(png))
      },
    })
    const sender = createTransport(display)
    const got = new Promise<Received>((resolve) => {
      void (async () => {
        for await (const r of receiver.receive()) return resolve(r)
      })()
    })
    const ac = new AbortController()
    const sending = sender.send(envelope, { signal: ac.signal, mediaType: 'application/octet-stream' }).catch((e: Error) => e)
    // a sender that stops before the receiver has the message fails the test instead of hanging it
    const r = await Promise.race([got, sending.then((e) => Promise.reject(e))])
    ac.abort()
    expect((await sending) as Error).toMatchObject({ name: 'AbortError' })
    expect(Buffer.compare(Buffer.from(r.data), Buffer.from(envelope))).toBe(0)
    const k = Math.ceil((envelope.length + 32 + 25) / (display.mtu - 18))
    expect(dropped).toBeGreaterThan(0)
    expect(camera.decoded).toBeGreaterThanOrEqual(k)
    expect(camera.decoded).toBeLessThanOrEqual(k + 10)
    expect(progress.at(-1)).toBe(1)
    expect(shown).toBeGreaterThan(camera.decoded)
  }, 120_000)
})

describe('decoding camera-like images', () => {
  for (const [version, need] of [
    [20, 0.9],
    [25, 0.8],
  ] as const) {
    it(`the default decoder reads ≥ ${need * 100} % of degraded v${version}-L frames (3–6 px/module, ±6°, blur, noise, low contrast)`, async () => {
      const rnd = seededRandom(version * 1000)
      const n = 40
      let ok = 0
      for (let i = 0; i < n; i++) {
        const frame = seededBytes(byteCapacity(version, 'L'), i)
        const img = degradeQr(frameToModules(frame, { version }), rnd)
        const got = await decodeQrBytesWasm(img)
        if (got && Buffer.compare(Buffer.from(got), Buffer.from(frame)) === 0) ok++
      }
      expect(ok / n).toBeGreaterThanOrEqual(need)
    }, 120_000)
  }
})

describe('the fixed @zxing/library finder', () => {
  it('decodes clean frames, and at least as many degraded v25-L frames as stock', () => {
    const clean = seededBytes(1273, 9)
    expect(decodeQrBytesFixed(modulesToImage(frameToModules(clean, { version: 25 }), { scale: 3 }))).toEqual(clean)
    const rnd = seededRandom(2525)
    let stock = 0
    let fixed = 0
    for (let i = 0; i < 40; i++) {
      const frame = seededBytes(1273, 100 + i)
      const img = degradeQr(frameToModules(frame, { version: 25 }), rnd)
      const same = (b: Uint8Array | undefined) => b !== undefined && Buffer.compare(Buffer.from(b), Buffer.from(frame)) === 0
      if (same(decodeQrBytes(img))) stock++
      if (same(decodeQrBytesFixed(img))) fixed++
    }
    expect(fixed).toBeGreaterThanOrEqual(stock)
    expect(fixed).toBeGreaterThan(0)
  }, 120_000)
})

describe('carrier qr encode / decode', () => {
  it('--raw: 100 KB of bytes as they are round-trip through PNG frames with 30 % of them deleted', async () => {
    const { spawnSync } = await import('node:child_process')
    const { readdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const dir = tempDir('carrier-qr-cli-')
    const file = join(dir, 'env.bin')
    const data = seededBytes(100 * 1024, 8)
    writeFileSync(file, data)
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'cli/entry.ts', ...args], { encoding: 'utf8' })
    const enc = run('--json', 'qr', 'encode', file, '--raw', '--out', join(dir, 'frames'), '--scale', '3')
    expect(enc.status, enc.stderr).toBe(0)
    const frames = readdirSync(join(dir, 'frames'))
    const rnd = seededRandom(77)
    for (const f of frames) if (rnd() < 0.3) rmSync(join(dir, 'frames', f))
    const dec = run('--json', 'qr', 'decode', join(dir, 'frames'), '--raw', '--out', join(dir, 'out.bin'))
    expect(dec.status, dec.stderr).toBe(0)
    expect(JSON.parse(dec.stdout)).toMatchObject({ command: 'qr decode', raw: true, bytes: data.length })
    expect(Buffer.compare(readFileSync(join(dir, 'out.bin')), Buffer.from(data))).toBe(0)
    // too few frames: a clear failure, not a hang
    for (const f of readdirSync(join(dir, 'frames')).slice(5)) rmSync(join(dir, 'frames', f))
    const short = run('qr', 'decode', join(dir, 'frames'), '--raw', '--out', join(dir, 'out2.bin'))
    expect(short.status).toBe(1)
    expect(short.stderr.trim()).toMatch(/^carrier: ERR_QR_INCOMPLETE: not enough frames to decode: \d+\/\d+/)
  }, 120_000)

  it('a file encrypted once, its key authcrypted to the recipient: only the recipient decodes it, and learns the sender', async () => {
    const { spawnSync } = await import('node:child_process')
    const { mkdirSync, readdirSync, readFileSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const dir = tempDir('carrier-qr-cli-file-')
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'cli/entry.ts', ...args], { encoding: 'utf8' })
    const key = (name: string) => JSON.parse(run('--json', 'keys', 'new', '--out', join(dir, name)).stdout).did as string
    const alice = key('alice.json')
    const bob = key('bob.json')
    const data = seededBytes(30_000, 9)
    writeFileSync(join(dir, 'photo.jpg'), data)
    const frames = join(dir, 'frames')
    const enc = run(
      '--json',
      'qr',
      'encode',
      join(dir, 'photo.jpg'),
      '--to',
      bob,
      '--identity',
      join(dir, 'alice.json'),
      '--out',
      frames,
      '--scale',
      '3',
    )
    expect(enc.status, enc.stderr).toBe(0)
    expect(JSON.parse(enc.stdout)).toMatchObject({
      command: 'qr encode',
      raw: false,
      protection: 'authcrypt',
      plainBytes: data.length,
    })
    const inbox = join(dir, 'inbox')
    mkdirSync(inbox)
    // without the recipient's keys: refused, nothing written
    const stranger = run('qr', 'decode', frames, '--out', inbox)
    expect(stranger.status).toBe(1)
    expect(readdirSync(inbox)).toEqual([])
    const dec = run('--json', 'qr', 'decode', frames, '--identity', join(dir, 'bob.json'), '--out', inbox)
    expect(dec.status, dec.stderr).toBe(0)
    expect(JSON.parse(dec.stdout)).toMatchObject({
      command: 'qr decode',
      filename: 'photo.jpg',
      from: alice,
      protection: 'authcrypt',
    })
    expect(Buffer.compare(readFileSync(join(inbox, 'photo.jpg')), Buffer.from(data))).toBe(0)
  }, 120_000)
})

describe('text and vector renderers', () => {
  it('the terminal rendering holds exactly the modules (two rows per line, inverted)', () => {
    const qr = frameToModules(seededBytes(100, 4), { version: 5 })
    const text = modulesToTerminal(qr, 2)
    const lines = text.split('\n')
    const n = qr.size + 4
    const back = new Uint8Array(qr.size * qr.size)
    lines.forEach((line, row) => {
      ;[...line].forEach((ch, x) => {
        const light = { '█': [1, 1], '▀': [1, 0], '▄': [0, 1], ' ': [0, 0] }[ch] as [number, number]
        for (const [dy, isLight] of light.entries()) {
          const y = row * 2 + dy
          const mx = x - 2
          const my = y - 2
          if (y < n && mx >= 0 && my >= 0 && mx < qr.size && my < qr.size) back[my * qr.size + mx] = isLight ? 0 : 1
        }
      })
    })
    expect(back).toEqual(Uint8Array.from(qr.modules))
  })

  it('the SVG draws one square per dark module', () => {
    const qr = frameToModules(seededBytes(50, 5), { version: 3 })
    const svg = modulesToSvg(qr)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.match(/M\d+ \d+h4v4h-4z/g)?.length).toBe(qr.modules.reduce((a, b) => a + b, 0))
  })
})

describe('Blockchain Commons UR compatibility', () => {
  it('an envelope goes out as ur:bytes parts in QR codes and comes back from their images, with losses', async () => {
    const envelope = new TextEncoder().encode(JSON.stringify({ protected: 'eyJ', ciphertext: 'x'.repeat(3000), tag: 't' }))
    const out = urParts(envelope, { fragmentLength: 200 })
    expect(out.fragments).toBeGreaterThan(10)
    const rx = new UrReceiver()
    const rnd = seededRandom(5)
    let shown = 0
    while (!rx.complete && shown < 200) {
      const part = out.next()
      shown++
      expect(part.startsWith('ur:bytes/')).toBe(true)
      if (rnd() < 0.25) continue
      const qr = textToModules(part.toUpperCase())
      const text = await decodeQrTextWasm(decodePng(encodePng(modulesToImage(qr, { scale: 2 }))))
      expect(rx.receive(text ?? '')).toBe(true)
    }
    expect(rx.complete).toBe(true)
    expect(rx.result()).toEqual(envelope)
    expect(rx.receive('hello, not a UR part')).toBe(false)
  }, 60_000)
})

describe('the camera side', () => {
  it('ignores foreign and garbled codes, and reports a new session when the screen changes message', async () => {
    const camera = new QrCameraLink()
    const sessions = new Set<string>()
    const scanner = createTransport(camera, { onProgress: (p) => sessions.add(p.transferId) })
    const got: Received[] = []
    const reading = (async () => {
      for await (const r of scanner.receive()) got.push(r)
    })()
    // a foreign code (a URL) and a garbled frame
    expect(await camera.feed(modulesToImage(textToModules('HTTPS://EXAMPLE.ORG/NOT-OURS'), { scale: 2 }))).toBe(true)
    const garbled = seededBytes(250, 1)
    garbled[0] = 0xa5
    expect(await camera.feed(modulesToImage(frameToModules(garbled, { version: 10 }), { scale: 2 }))).toBe(true)
    // two messages one after the other, as a screen switching files
    for (const [i, size] of [5000, 7000].entries()) {
      const ac = new AbortController()
      const display = new QrDisplayLink({
        version: 10,
        show: async (code) => {
          await camera.feed(modulesToImage(code, { scale: 2 }))
          if (got.length > i) ac.abort()
        },
      })
      await createTransport(display)
        .send(seededBytes(size, i), { signal: ac.signal, mediaType: 'application/octet-stream' })
        .catch(() => {})
    }
    await scanner.close()
    await reading
    expect(got.map((r) => r.data.length)).toEqual([5000, 7000])
    expect(sessions.size).toBe(2)
    expect(scanner.stats().framesIgnored).toBeGreaterThanOrEqual(1)
  }, 60_000)
})
