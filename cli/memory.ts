import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface CollectSchedule {
  /** File bytes moved between two full collections. */
  fullEvery: number
  /** File bytes moved between two young-generation collections (none when unset). */
  youngEvery?: number
}

/**
 * Garbage collections on a budget of file bytes moved. A transfer's buffers (sealed and opened
 * segments, frames, socket reads) are garbage V8 does not count against its heap: left alone it
 * collects them only once they reach tens of MB, which is the process's peak RSS. Collecting on a
 * byte budget keeps the CLI's peak near its live memory.
 *
 * Garbage that dies young (each sealed segment, copied into its chunk and dropped) a young-generation
 * collection frees for ~1 ms; a full one takes 10–20 ms and marks the whole heap. What outlives two
 * young collections only a full one frees. Neither `send-file` nor `listen` makes such garbage per
 * byte any more (MQTT frames, mqtt.js's stored copies of them and the receiver's reassembly buffers
 * were: src/wire/buffer-pool.ts, adapters/mqtt/outgoing-store.ts), so both collect the young
 * generation every 2 MiB and the whole heap every 64 MiB (docs/FILES.md "Measured"). Before, a full
 * collection every 8 MiB.
 */
export function collectEvery(s: CollectSchedule): (bytesSoFar: number) => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void
  let nextFull = s.fullEvery
  let nextYoung = s.youngEvery ?? Number.POSITIVE_INFINITY
  return (bytes) => {
    if (bytes >= nextFull) {
      nextFull = bytes + s.fullEvery
      if (s.youngEvery) nextYoung = bytes + s.youngEvery
      gc()
    } else if (bytes >= nextYoung) {
      nextYoung = bytes + (s.youngEvery as number)
      gc({ type: 'minor' })
    }
  }
}
