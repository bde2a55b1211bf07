import { deflateSync, Inflate, inflateSync } from 'fflate'
import { MessageTooLargeError } from '../transport.js'
import { concatBytes } from './bytes.js'

/**
 * Envelopes up to this size are deflated and inflated in place with fflate. Through
 * CompressionStream, Node runs zlib on its libuv thread pool behind every file read and write
 * queued there: a 2 KB file status waited 20–60 ms behind a receiver's segment writes (traced
 * through mosquitto, docs/FILES.md "Measured"), where fflate takes well under a millisecond.
 * Inflating in place goes by the compressed size, a quarter of this: what comes out is bounded by
 * the caller's limit either way (inflatePortable checks it as it goes), but a stream that small
 * keeps the synchronous work on the event loop short.
 */
const IN_PLACE_BYTES = 16 * 1024

/**
 * deflate-raw through CompressionStream where the runtime has it (Node ≥ 18, browsers) for large
 * envelopes, else through fflate (small envelopes; pure JS runtimes: React Native's Hermes, older
 * WebViews). Both write and read the same RFC 1951 stream, so a peer with the native API and one
 * without interoperate.
 */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream === 'undefined' || data.length <= IN_PLACE_BYTES) return deflateSync(data, { level: 6 })
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/**
 * Inflate, refusing to produce more than maxBytes: a few kilobytes of deflate can claim gigabytes,
 * so the limit is checked while inflating, not after.
 */
export async function inflateRaw(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (data.length <= IN_PLACE_BYTES / 4) return inflateSmall(data, maxBytes)
  if (typeof DecompressionStream === 'undefined') return inflatePortable(data, maxBytes)
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'))
  const reader = stream.getReader()
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > maxBytes) {
      await reader.cancel()
      throw tooLarge(maxBytes)
    }
    parts.push(value)
  }
  return concatBytes(parts)
}

/**
 * A stream of at most IN_PLACE_BYTES / 4 in one call: what it can claim is bounded (deflate expands
 * at most ~1032×, so ~4 MiB), and one call takes less than half the time of the streaming inflater
 * on a 2 KB file status (66 against 155 µs).
 */
function inflateSmall(data: Uint8Array, maxBytes: number): Uint8Array {
  const out = inflateSync(data)
  if (out.length > maxBytes) throw tooLarge(maxBytes)
  return out
}

/** Deflate expands at most ~1032× per input byte: 1 KiB pushes keep one step's output near 1 MiB. */
const PUSH_BYTES = 1024

export function inflatePortable(data: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = []
  let total = 0
  const inflater = new Inflate((chunk) => {
    total += chunk.length
    if (total > maxBytes) throw tooLarge(maxBytes)
    parts.push(chunk)
  })
  for (let i = 0; i < data.length; i += PUSH_BYTES) {
    const end = Math.min(data.length, i + PUSH_BYTES)
    inflater.push(data.subarray(i, end), end === data.length)
  }
  if (data.length === 0) inflater.push(data, true)
  return concatBytes(parts)
}

function tooLarge(maxBytes: number): MessageTooLargeError {
  return new MessageTooLargeError(`compressed message inflates beyond the ${maxBytes}-byte limit`)
}
