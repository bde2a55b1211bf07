import { createTransport } from '../src/index.js'
import { memoryLinkPair } from '../src/testing/memory-link.js'
import { seededBytes } from '../src/testing/prng.js'
import { emit } from './lib.js'

/**
 * Wire efficiency: envelope bytes / every byte that crossed the link in both directions (frames,
 * headers, checks, reports, the final ack), 0 % loss, incompressible data, compression off.
 * Baseline: the DIF/Animo BLE layout (raw MTU-sized chunks + "EOM"; no header, no acks, no integrity).
 */
export async function efficiencyBench(): Promise<void> {
  const size = 1024 * 1024
  for (const mtu of [20, 182, 514, 65536]) {
    const pair = memoryLinkPair({ mtu, capacity: 4096 })
    const a = createTransport(pair.a)
    const b = createTransport(pair.b)
    const data = seededBytes(size, 1)
    await a.send(data, { compress: false })
    await new Promise((r) => setTimeout(r, 20))
    const crossed = pair.counters.bytes[0] + pair.counters.bytes[1]
    await a.close()
    await b.close()
    emit({
      name: `wire.efficiency.frame${mtu}`,
      value: size / crossed,
      unit: 'ratio',
      baseline: { name: 'raw chunks + EOM (DIF/Animo BLE layout)', value: size / (size + 3) },
      params: { messageBytes: size, bytesCrossed: crossed, frames: pair.counters.frames },
    })
  }
}
