import { MessageTooLargeError } from '../transport.js'
import { concatBytes } from './bytes.js'

/** deflate-raw through CompressionStream (native in Node ≥ 20 and browsers). */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/**
 * Inflate, refusing to produce more than maxBytes: a few kilobytes of deflate can claim gigabytes,
 * so the limit is checked while inflating, not after.
 */
export async function inflateRaw(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
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
      throw new MessageTooLargeError(`compressed message inflates beyond the ${maxBytes}-byte limit`)
    }
    parts.push(value)
  }
  return concatBytes(parts)
}
