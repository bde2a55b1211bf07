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
 * young collections only a full one frees: `send-file` no longer makes such garbage per byte (its
 * frames and mqtt.js's stored copies of them were: adapters/mqtt/frame-pool.ts, outgoing-store.ts),
 * so it collects the young generation every 2 MiB and the whole heap every 64 MiB. `listen` still
 * reassembles each chunk in a fresh buffer that lives until the chunk is whole: a full collection
 * every 8 MiB. A young collection every 2 MiB and a full one every 16 MiB halved the listener's
 * forced collections but raised its peak in the 1 GiB test (104–114 → 106–113 MB at the time).
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
