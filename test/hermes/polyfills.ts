/**
 * The polyfills a React Native app installs and imports first in its index.js: a TextDecoder
 * (fast-text-encoding) and crypto.getRandomValues (react-native-get-random-values).
 */
import 'fast-text-encoding' // TextEncoder (native since React Native 0.74) and TextDecoder: what apps install

const g = globalThis as Record<string, unknown>

// react-native-get-random-values installs crypto.getRandomValues from the platform's CSPRNG; this
// harness stands in for it with a seeded generator so every run packs the same bytes.
let seed = (g.HERMES_SEED as number | undefined) ?? 1
function next(): number {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return (t ^ (t >>> 14)) >>> 0
}
if (typeof g.crypto === 'undefined') g.crypto = {}
const c = g.crypto as Record<string, unknown>
if (typeof c.getRandomValues !== 'function') {
  c.getRandomValues = <T extends ArrayBufferView>(a: T): T => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff
    return a
  }
}
