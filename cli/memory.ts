import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A full garbage collection once the process's ArrayBuffers have grown `budgetBytes` past what the
 * last collection left, looked at every `everyBytes` of file data moved. Moving a file makes
 * short-lived buffers (frames, chunks, decrypted segments) outside V8's heap; V8 collects them only
 * after they pass 64 MB or so, and that garbage is the process's peak RSS. A collection costs
 * 15–25 ms here, so it runs when there is garbage to free, not on a fixed byte count: the buffers a
 * window holds alive (measured 3–7 MB for send-file) no longer make it collect for nothing.
 * Measured on 64 MB through mosquitto (docs/FILES.md "Memory"): a collection every 2 MiB cost the
 * sender ~0.8 s of CPU, and about as much the listener.
 */
export function collectWhenGrown(budgetBytes: number, everyBytes = 1024 * 1024): (bytesSoFar: number) => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let next = everyBytes
  let floor = process.memoryUsage().arrayBuffers
  return (bytes) => {
    if (bytes < next) return
    next = bytes + everyBytes
    if (process.memoryUsage().arrayBuffers < floor + budgetBytes) return
    gc()
    floor = process.memoryUsage().arrayBuffers
  }
}
