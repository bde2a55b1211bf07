import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Bytes between two young-generation collections where the garbage dies young (see collectEvery). */
const YOUNG_EVERY = 2 * 1024 * 1024

/**
 * A full garbage collection every `everyBytes` of file data moved. A transfer's buffers (sealed
 * segments, frames, socket reads) are garbage V8 does not count against its heap: left alone it
 * collects them only once they reach tens of MB, which is the process's peak RSS. Collecting on a
 * byte budget keeps the CLI's peak near its live memory (10–20 ms per collection).
 *
 * Bytes passed with `young` make garbage that dies at once (send-file's hashing pass: each sealed
 * segment hashed and dropped): a young-generation collection every 2 MiB frees it for ~1 ms where
 * a full one takes 10–20 ms. 256 MB through mosquitto, the sender's forced collections took
 * 0.80–1.04 s in all (4 runs) instead of 1.05–1.18 s, peak RSS the same 98–103 MB.
 *
 * Not kept for `listen`: a young-generation collection every 2 MiB and a full one every 16 MiB
 * halved its forced collections (0.34–0.49 s instead of 0.74–0.92 s per 256 MB), but its peak in
 * the 1 GiB test went from 104–114 to 106–113 MB even with ~6 MB less idle RSS under it (`ws`
 * loaded lazily): that margin under the test's 120 MB is worth more than ~0.2 s.
 */
export function collectEvery(everyBytes: number): (bytesSoFar: number, young?: boolean) => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void
  let next = everyBytes
  let nextYoung = YOUNG_EVERY
  return (bytes, young = false) => {
    if (young) {
      if (bytes < nextYoung) return
      nextYoung = bytes + YOUNG_EVERY
      gc({ type: 'minor' })
      return
    }
    if (bytes < next) return
    next = bytes + everyBytes
    gc()
  }
}
