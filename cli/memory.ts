import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A full garbage collection every `everyBytes` of file data moved. A transfer allocates several
 * short-lived copies of every part (base64, JWE, JSON strings); V8 lets that garbage grow the
 * heap to a few hundred MB before it collects, which is the process's peak RSS. Collecting on a
 * byte budget keeps the CLI's peak near its live memory (about 10 ms per collection).
 */
export function collectEvery(everyBytes: number): (bytesSoFar: number) => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let next = everyBytes
  return (bytes) => {
    if (bytes < next) return
    next = bytes + everyBytes
    gc()
  }
}
