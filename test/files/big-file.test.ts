import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { compileCli } from '../support/compiled-cli.js'
import { jsonLines, type RunningCarrier, runCarrier, startNode } from '../support/run.js'
import { tempDir } from '../support/temp.js'

/** 1 GiB unless told otherwise (a smaller size only to try the test out locally). */
const MIB = 1024 * 1024
const SIZE = Number(process.env.CARRIER_BIG_FILE_MIB ?? 1024) * MIB
/** Each process's peak RSS (issue 29): memory is bounded by the window's chunks, never by the file. */
const RSS_LIMIT = 120 * 1e6
/**
 * Worst case sent twice after one listener kill (docs/FILES.md, "Sent twice"): each of the
 * W = 8 chunks out and unconfirmed when it died (send-file's window) goes again once by send-file,
 * and each of the V = 4 of them still on the wire at most R = 3 times more by the wire (REJECT 6
 * restarts), and the U = 4 chunks it wrote after its last save of what it holds (every 2 MiB) once,
 * each time one chunk C: (W + U + V × R) × C over a pass of the ciphertext. The wire sends
 * nothing twice on its own over MQTT (intact link, wire 1.2 ANSWER). The 0.1 % is the control
 * frames and DATA headers (7 bytes per 64 KiB frame) the ratio counts as well.
 */
const PARTS_IN_FLIGHT = 8
const PARTS_ON_WIRE = 4
const WIRE_RESTARTS = 3
const PART_BYTES = MIB / 2 // send-file's chunk (512 KiB of the file)
/** A receiver saves which segments it holds every 2 MiB (BlobSink): what it wrote since is sent again. */
const PARTS_UNSAVED = (2 * MIB) / PART_BYTES
const TWICE_BOUND = ((PARTS_IN_FLIGHT + PARTS_UNSAVED + PARTS_ON_WIRE * WIRE_RESTARTS) * PART_BYTES) / SIZE + 0.001
/** …and whole chunks sent again by send-file: only the ones out or unsaved at the kill, once each. */
const PARTS_TWICE_BOUND = (PARTS_IN_FLIGHT + PARTS_UNSAVED) / Math.ceil(SIZE / PART_BYTES)
/**
 * Hang detection only, never a measure of speed: a run on a quiet 2-core machine takes a few
 * minutes, on one loaded by other work (load average ~20) the build alone took 3 min and the
 * transfer over 10 (a 600 s limit failed it there). A stalled transfer never finishes at all.
 */
const HANG_MS = 40 * 60_000
/** The compiled CLI, as `carrier` runs it (tsx alone adds ~35 MB to every process). */
/** The compiled CLI's folder (compileCli, in beforeAll). */
let DIST = ''

let broker: EmbeddedBroker
let dir: string
/** Payload bytes of the publishes the broker took for the receiver's inbox (`didcomm/v2/{rk}/…`): what it forwards to it. */
let forwarded = 0
let inboxTopic = ''
beforeAll(async () => {
  broker = await startEmbeddedBroker({
    maxPacketBytes: 256 * 1024,
    onPublish: (topic, bytes) => {
      if (inboxTopic && topic.startsWith(inboxTopic)) forwarded += bytes
    },
  })
  dir = tempDir('carrier-big-')
  DIST = compileCli('test')
}, HANG_MS)
afterAll(async () => {
  await broker?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The file from a fixed seed, 16 MiB at a time (never whole in memory); its SHA-256. */
async function writeSeeded(path: string, size: number): Promise<string> {
  const h = createHash('sha256')
  const out = createWriteStream(path)
  for (let o = 0, seed = 1; o < size; o += 16 * MIB, seed++) {
    const chunk = seededBytes(Math.min(16 * MIB, size - o), seed)
    h.update(chunk)
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  return h.digest('hex')
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(path, { highWaterMark: 4 * MIB })) h.update(c as Buffer)
  return h.digest('hex')
}

/** Peak resident set (VmHWM) of a process, in bytes, from /proc; 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** Keeps the last VmHWM read of each process (it only grows, so the last read before exit is the peak). */
function watchRss(p: RunningCarrier): { peak: () => number; stop: () => void } {
  let peak = 0
  const timer = setInterval(() => (peak = Math.max(peak, peakRss(p.pid))), 100)
  return { peak: () => peak, stop: () => clearInterval(timer) }
}

describe('a 1 GiB file between carrier processes over MQTT', () => {
  it('survives the listener SIGKILLed halfway: resumed, byte-exact, sent twice within the design bound, peak RSS of each process printed and bounded', {
    timeout: HANG_MS,
  }, async () => {
    const source = join(dir, 'big.bin')
    const sha = await writeSeeded(source, SIZE)
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect((await runCarrier('keys', 'new', '--out', alice, '--service', broker.url)).code).toBe(0)
    const bobDid = JSON.parse((await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', broker.url)).stdout).did
    const endpoint = JSON.parse(readFileSync(bob, 'utf8')).document.service[0].serviceEndpoint.uri as string
    inboxTopic = `${new URL(endpoint).pathname.slice(1).replace(/\/in$/, '')}/`
    expect(inboxTopic).toMatch(/^didcomm\/v2\/[\w-]+\/$/)
    const out = join(dir, 'inbox')
    const carrier = (...args: string[]) => startNode([join(DIST, 'cli', 'entry.js'), ...args])
    const listen = () => carrier('--json', 'listen', '--identity', bob, '--out', out, '--count', '1')

    const first = listen()
    const firstRss = watchRss(first)
    await first.line(/"event":"ready"/)
    const sender = carrier('--json', 'send-file', source, '--identity', alice, '--to', bobDid)
    const senderRss = watchRss(sender)
    // halfway by the listener's own account of what it has on disk
    await first.line(/"event":"progress".*/, 300_000)
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const got = jsonLines<{ event: string; bytes?: number }>(first.stdout())
          .filter((e) => e.event === 'progress')
          .at(-1)
        if ((got?.bytes ?? 0) >= SIZE / 2) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
      void first.exited.then(() => {
        clearInterval(timer)
        reject(new Error(`listener exited early: ${first.stderr()}`))
      })
    })
    const firstPeak = Math.max(firstRss.peak(), peakRss(first.pid))
    first.kill('SIGKILL')
    await first.exited
    firstRss.stop()
    const partials = readdirSync(out).filter((n) => n.startsWith('.carrier-'))
    expect(partials.some((n) => n.endsWith('.partial'))).toBe(true)

    const second = listen()
    const secondRss = watchRss(second)
    expect(await sender.exited, sender.stderr()).toBe(0)
    expect(await second.exited, second.stderr()).toBe(0)
    senderRss.stop()
    secondRss.stop()

    const sent = jsonLines<Record<string, number | string>>(sender.stdout()).find((e) => e.event === 'file') ?? {}
    const got = jsonLines<Record<string, number | string>>(second.stdout()).find((e) => e.event === 'file') ?? {}
    expect(got).toMatchObject({ name: 'big.bin', bytes: SIZE, sha256: sha })
    expect(got.resumedParts).toBeGreaterThan(0)
    expect(await sha256Of(join(out, 'big.bin'))).toBe(sha)
    // what a clean single pass puts through the broker towards the receiver: the ciphertext (a 16-byte
    // tag per 64 KiB segment) and a 37-byte header per chunk (the rest is chunks sent again and the
    // wire's own retransmissions)
    const onePass = SIZE + (sent.segments as number) * 16 + (sent.parts as number) * 37
    const expansion = onePass / SIZE
    const twice = forwarded / onePass - 1
    const partsTwice = ((sent.partsSent as number) - (sent.parts as number)) / (sent.parts as number)
    const figures = {
      fileBytes: SIZE,
      brokerForwardedBytes: forwarded,
      cipherExpansion: Number(expansion.toFixed(5)),
      sentTwiceFraction: Number(twice.toFixed(4)),
      partsSentTwiceFraction: Number(partsTwice.toFixed(4)),
      resumedSegments: got.resumedParts,
      durationMs: sent.durationMs,
      peakRssMB: {
        sender: Math.round(senderRss.peak() / 1e6),
        listenerBeforeKill: Math.round(firstPeak / 1e6),
        listenerAfterRestart: Math.round(secondRss.peak() / 1e6),
      },
    }
    console.log(`big file: ${JSON.stringify(figures)}`)
    // Chunks sent again (the ones out when the listener was killed) and the wire's own
    // retransmissions, all counted at the broker: within the worst case of the design (above;
    // 1.27 % of the file and 0.59 % of chunks at 1 GiB). Measured figures: docs/FILES.md.
    expect(partsTwice).toBeLessThanOrEqual(PARTS_TWICE_BOUND)
    expect(twice).toBeLessThanOrEqual(TWICE_BOUND)
    expect(senderRss.peak()).toBeGreaterThan(0)
    expect(senderRss.peak()).toBeLessThan(RSS_LIMIT)
    expect(firstPeak).toBeLessThan(RSS_LIMIT)
    expect(secondRss.peak()).toBeLessThan(RSS_LIMIT)
    expect(readdirSync(out).filter((n) => n.endsWith('.partial'))).toEqual([])
    rmSync(source, { force: true })
    rmSync(join(out, 'big.bin'), { force: true })
  })
})
