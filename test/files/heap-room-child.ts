/**
 * heap-room.test.ts's child: send-file's hashing pass in small, in a fresh process (glibc's
 * thresholds move once anything frees a large block, so the parent's own history would blur it).
 * Seals 64 MiB segment by segment with a young collection every 2 MiB, as the CLI collects, inside
 * a HeapRoom when argv[2] is "room"; prints the page faults the loop took. Run with
 * --no-concurrent-array-buffer-sweeping (see the test).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { HeapRoom } from '../../adapters/fs/heap-room.js'
import { sealInto } from '../../adapters/fs/seal.js'

const S = 64 * 1024
const BYTES = 64 * 1024 * 1024
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (o: { type: 'minor' }) => void
const params = { key: new Uint8Array(32).fill(7), prefix: new Uint8Array(7).fill(9), segmentBytes: S }
const plain = new Uint8Array(S).fill(1)
const out = new Uint8Array(S + 16)
const room = process.argv[2] === 'room' ? new HeapRoom() : undefined
const before = process.resourceUsage().minorPageFault
for (let i = 0; i < BYTES / S; i++) {
  sealInto(params, i, false, plain, out, 0)
  if ((i * S) % (2 * 1024 * 1024) === 0) gc({ type: 'minor' })
}
const faults = process.resourceUsage().minorPageFault - before
room?.release()
console.log(JSON.stringify({ faults, pages: BYTES / 4096, released: room ? !room.held : null }))
