import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectMqtt } from '../adapters/mqtt/client.js'
import { startEmbeddedBroker } from '../adapters/mqtt/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { compileCli } from '../test/support/compiled-cli.js'
import { MOSQUITTO, Mosquitto } from '../test/support/mosquitto.js'
import { jsonLines, runCarrier, startNode } from '../test/support/run.js'
import { emit, median } from './lib.js'

/**
 * 256 MB over MQTT: `carrier send-file` → `carrier listen` (separate processes of the compiled
 * CLI; the file sealed once, one authcrypt share, the ciphertext as binary wire transfers, each
 * chunk confirmed on the receiver's disk) against raw mqtt.js publishing the same bytes as 64 KiB
 * QoS 1 messages to a subscriber process that writes them to a file, through the same broker in
 * the same run; pairs alternate which goes first. Once through a mosquitto process, once through
 * aedes (embedded in this process). Also both carrier processes' peak RSS.
 */
const SIZE = Number(process.env.CARRIER_BENCH_FILES_MB ?? 256) * 1000 * 1000
const PAIRS = Number(process.env.CARRIER_BENCH_FILES_PAIRS ?? 3)
/** The compiled CLI's folder (compileCli, in beforeAll). */
let DIST = ''

function vmHwm(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
  } catch {
    return 0
  }
}

export async function filesBench(): Promise<void> {
  DIST = compileCli('bench')
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-files-'))
  try {
    const file = join(dir, 'file.bin')
    writeFileSync(file, seededBytes(SIZE, 21))
    if (!MOSQUITTO) throw new Error('the files bench needs mosquitto (apt-get install mosquitto)')
    const mosquitto = await Mosquitto.start({ maxPacketSize: 256 * 1024 })
    try {
      await pairs('mosquitto', mosquitto.url, dir, file)
    } finally {
      await mosquitto.stop()
    }
    const aedes = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
    try {
      await pairs('aedes', aedes.url, dir, file)
    } finally {
      await aedes.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function pairs(brokerName: string, url: string, dir: string, file: string): Promise<void> {
  const carrier = (...args: string[]) => startNode([join(DIST, 'cli', 'entry.js'), ...args])
  const alice = join(dir, `alice-${brokerName}.json`)
  const bob = join(dir, `bob-${brokerName}.json`)
  await runCarrier('keys', 'new', '--out', alice, '--service', url)
  const bobDid = JSON.parse((await runCarrier('--json', 'keys', 'new', '--out', bob, '--service', url)).stdout).did

  const raw = startNode(['--import', 'tsx', 'bench/files-raw-receiver.ts', url, String(SIZE), join(dir, 'raw.bin')])
  await raw.line(/^ready$/)
  const { client } = await connectMqtt(url, { clientId: `bench-files-pub-${brokerName}` })
  let rawRuns = 0
  const runRaw = async () => {
    const t0 = performance.now()
    const pubs: Promise<unknown>[] = []
    for await (const chunk of createReadStream(file, { highWaterMark: 65536 })) {
      pubs.push(client.publishAsync('bench/files-raw', chunk as Buffer, { qos: 1 }))
      if (pubs.length >= 16) await pubs.shift()
    }
    await Promise.all(pubs)
    rawRuns++
    // wait for this run's line, not an earlier one's
    while (
      raw
        .stdout()
        .split('\n')
        .filter((l) => l === `raw ${SIZE}`).length < rawRuns
    )
      await new Promise((r) => setTimeout(r, 5))
    return performance.now() - t0
  }

  let senderPeak = 0
  let listenerPeak = 0
  let idle = 0
  const runOurs = async (n: number) => {
    const out = join(dir, `inbox-${brokerName}-${n}`)
    const listener = carrier('--json', 'listen', '--identity', bob, '--out', out, '--count', '1')
    await listener.line(/"event":"ready"/)
    idle = Math.max(idle, vmHwm(listener.pid))
    const sender = carrier('--json', 'send-file', file, '--identity', alice, '--to', bobDid)
    const peaks = setInterval(() => {
      senderPeak = Math.max(senderPeak, vmHwm(sender.pid))
      listenerPeak = Math.max(listenerPeak, vmHwm(listener.pid))
    }, 100)
    const code = await sender.exited
    await listener.exited
    clearInterval(peaks)
    if (code !== 0) throw new Error(`send-file failed: ${sender.stderr()}`)
    const r = jsonLines<{ event: string; durationMs: number }>(sender.stdout()).find((e) => e.event === 'file')
    rmSync(out, { recursive: true, force: true })
    return r?.durationMs as number
  }

  const ours: number[] = []
  const raws: number[] = []
  await runRaw() // warm-up of the broker and the publisher
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2 === 0) {
      ours.push(await runOurs(i))
      raws.push(await runRaw())
    } else {
      raws.push(await runRaw())
      ours.push(await runOurs(i))
    }
  }
  raw.kill()
  await client.endAsync()
  const mb = SIZE / 1e6
  const mbps = (ms: number) => mb / (ms / 1000)
  emit({
    name: `files.goodput.${brokerName}.${mb}MB`,
    value: mbps(median(ours)),
    unit: 'MB/s',
    baseline: {
      name: `raw mqtt.js, 64 KiB QoS 1 publishes of the same bytes to a subscriber writing a file, same ${brokerName}`,
      value: mbps(median(raws)),
    },
    ratio: median(ours.map((ms, i) => (raws[i] as number) / ms)),
    params: {
      pairs: PAIRS,
      ours: ours.map((ms) => Math.round(mbps(ms) * 10) / 10),
      raw: raws.map((ms) => Math.round(mbps(ms) * 10) / 10),
      chunkBytes: 512 * 1024,
      window: 8,
      onWire: 4,
      statusEvery: 4,
      processes:
        'carrier send-file → carrier listen (compiled CLI); ours timed by send-file from its start (hashing pass included) to the complete status',
      ratio: 'median of per-pair ratios',
    },
  })
  const idleBaseline = { name: 'an idle carrier listen (same build)', value: idle / 1e6 }
  emit({ name: `files.sender.peakRss.${brokerName}.${mb}MB`, value: senderPeak / 1e6, unit: 'MB', baseline: idleBaseline })
  emit({ name: `files.receiver.peakRss.${brokerName}.${mb}MB`, value: listenerPeak / 1e6, unit: 'MB', baseline: idleBaseline })
}
