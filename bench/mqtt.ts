import { type ChildProcess, spawn } from 'node:child_process'
import { MqttNode, MqttTransport } from '../adapters/mqtt/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { MOSQUITTO, Mosquitto } from '../test/support/mosquitto.js'
import { emit, median } from './lib.js'

/**
 * Goodput of an 8 MB envelope through the MQTT transport (64 KiB frames, QoS 1, end-to-end acks,
 * SHA-256) vs raw mqtt.js publishing the same bytes as 64 KiB QoS 1 messages to a subscriber,
 * both through the same mosquitto in the same run, the receiver in its own process for both.
 */
const RUNS = 25
const SIZE = 8 * 1024 * 1024

function lineReader(p: ChildProcess): () => Promise<string> {
  const queue: string[] = []
  const waiting: ((l: string) => void)[] = []
  let buf = ''
  p.stdout?.on('data', (d) => {
    buf += d
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      const w = waiting.shift()
      if (w) w(line)
      else queue.push(line)
    }
  })
  return () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift() as string) : waiting.push(resolve)))
}

export async function mqttBench(): Promise<void> {
  if (!MOSQUITTO) {
    console.log(JSON.stringify({ name: 'mqtt.goodput.8MB', skipped: 'mosquitto is not installed (apt-get install mosquitto)' }))
    return
  }
  const m = await Mosquitto.start()
  const receiver = spawn(process.execPath, ['--import', 'tsx', 'bench/mqtt-receiver.ts', m.url, String(SIZE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const lines = lineReader(receiver)
    if ((await lines()) !== 'ready') throw new Error('receiver did not start')
    const data = seededBytes(SIZE, 8)
    const alice = await MqttNode.connect(m.url, { clientId: 'bench-alice', protocolVersion: 5 })
    const a = new MqttTransport(await alice.openInbox('benchAlice'))
    const ours: number[] = []
    const raw: number[] = []
    const runOurs = async () => {
      const t0 = performance.now()
      await a.send('benchBob', data, { compress: false })
      if ((await lines()) !== `carrier ${SIZE}`) throw new Error('transport bench: wrong delivery')
      return performance.now() - t0
    }
    // raw: same broker, same QoS, same 64 KiB pieces, a subscriber that copies them into place
    const runRaw = async () => {
      const t0 = performance.now()
      const pubs: Promise<unknown>[] = []
      for (let o = 0; o < SIZE; o += 65536) {
        pubs.push(alice.client.publishAsync('bench/raw', Buffer.from(data.buffer, o, Math.min(65536, SIZE - o)), { qos: 1 }))
        if (pubs.length >= 16) await pubs.shift()
      }
      await Promise.all(pubs)
      if ((await lines()) !== `raw ${SIZE}`) throw new Error('raw bench: wrong delivery')
      return performance.now() - t0
    }
    // Pair 0 warms up the JIT and the broker for both and is not counted. The two runs of a pair
    // are back to back, under the same machine load; which goes first alternates, so neither
    // always inherits the other's garbage.
    for (let run = 0; run <= RUNS; run++) {
      let o: number
      let r: number
      if (run % 2 === 0) {
        o = await runOurs()
        r = await runRaw()
      } else {
        r = await runRaw()
        o = await runOurs()
      }
      if (run === 0) continue
      ours.push(o)
      raw.push(r)
    }
    const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000)
    emit({
      name: 'mqtt.goodput.8MB',
      value: mbps(median(ours)),
      unit: 'MB/s',
      baseline: { name: 'raw mqtt.js, 64 KiB QoS 1 publishes, same mosquitto', value: mbps(median(raw)) },
      // each transport run is paired with the raw run right after it, under the same machine load
      ratio: median(ours.map((ms, i) => (raw[i] as number) / ms)),
      params: { runs: RUNS, frameBytes: alice.mtu, receiver: 'separate process', ratio: 'median of per-pair ratios' },
    })
    await a.close()
    await alice.close()
  } finally {
    receiver.kill()
    await m.stop()
  }
}
