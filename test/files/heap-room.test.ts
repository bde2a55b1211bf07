import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { prerequisite } from '../support/prerequisites.js'

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime
const hasGlibc = prerequisite('glibc malloc', glibc !== undefined, 'HeapRoom is for glibc: run on a glibc Linux (Debian)')

async function sealLoop(mode: 'room' | 'none'): Promise<{ faults: number; pages: number; released: boolean | null }> {
  // V8 frees dead buffers on a helper thread by default: under load it frees them late, the loop's next
  // allocations land above the lid and fault anyway (560–1,024 faults with the room while a CI run
  // loaded the machine). Freed during the collection itself, what is left to count is the room.
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--no-concurrent-array-buffer-sweeping',
    '--import',
    'tsx',
    'test/files/heap-room-child.ts',
    mode,
  ])
  return JSON.parse(stdout)
}

describe.runIf(hasGlibc)('HeapRoom (adapters/fs/heap-room.ts, glibc malloc)', () => {
  it('keeps the hashing pass from faulting its garbage in again after each collection', async () => {
    const room = await sealLoop('room')
    const none = await sealLoop('none')
    console.log(`heap room: ${room.faults} page faults for ${room.pages} pages of garbage; ${none.faults} without the room`)
    expect(room.released).toBe(true)
    // fresh processes, a CI run loading the machine: with the room 285–530 faults (6 runs); without it
    // 15,572–16,145 (13 runs): glibc trims what each collection frees and every page faults again
    expect(room.faults).toBeLessThan(room.pages / 8)
    expect(none.faults).toBeGreaterThan(room.pages / 2)
  })
})
