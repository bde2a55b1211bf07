/**
 * Room at the top of glibc malloc's heap for garbage that is collected every few MiB.
 *
 * A loop that seals a file with node:crypto makes a fresh 64 KiB buffer per segment; the CLI
 * collects them every 2 MiB (cli/memory.ts). Freed, they sit at the top of malloc's heap, which
 * glibc gives back to the system once more than 128 KiB is free there (its trim threshold), and the
 * next 2 MiB fault every page in again: send-file's hashing pass of 256 MB took 125,826 page faults
 * and 1.5 s, against 6,225 faults and 0.57 s with this room (/usr/bin/time, the same loop). In
 * `carrier send-file`, 256 MB through mosquitto: the hashing pass ended ~1.5 s after the start
 * instead of ~2.4 s, the whole run 7.4–7.7 s instead of 8.9–10.9 s (3 runs each), peak RSS the same.
 * test/files/heap-room.test.ts counts the faults.
 *
 * The room is blocks just below the mmap threshold (so they come from the heap's top), then one
 * more, the lid, held until `release`. The blocks are dropped at once: the next collection frees
 * them into a hole under the lid, which glibc keeps and hands out again instead of growing the
 * heap. The room is already resident (the garbage would have been), so peak RSS does not change
 * (56–58 MB for that loop either way). With another allocator, or the blocks served from elsewhere,
 * it is 4 MiB that is freed at the next collection, no more.
 */

/** Below glibc's default mmap threshold (128 KiB): served from the heap. */
const BLOCK_BYTES = 120 * 1024
/** 32 blocks: 3.75 MiB, above the 2 MiB the CLI lets the hashing pass's garbage reach (16 blocks: twice the faults, 0.7 s). */
const ROOM_BLOCKS = 32

export class HeapRoom {
  #lid: Uint8Array | undefined

  constructor() {
    const blocks = Array.from({ length: ROOM_BLOCKS }, () => new Uint8Array(BLOCK_BYTES))
    this.#lid = new Uint8Array(BLOCK_BYTES)
    blocks.length = 0
  }

  get held(): boolean {
    return this.#lid !== undefined
  }

  /** The lid goes with the next collection, and the room with it. */
  release(): void {
    this.#lid = undefined
  }
}
