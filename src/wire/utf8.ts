/**
 * Strict UTF-8 (invalid bytes throw a TypeError, as `new TextDecoder('utf-8', { fatal: true })`
 * does). TextDecoder polyfills that React Native apps install (fast-text-encoding) refuse the
 * `fatal` option at construction; there the bytes are checked here and decoded leniently.
 */
function nativeStrict(): ((b: Uint8Array) => string) | undefined {
  try {
    const d = new TextDecoder('utf-8', { fatal: true })
    return (b) => d.decode(b)
  } catch {
    return undefined
  }
}

/** The first offset where `b` stops being well-formed UTF-8 (RFC 3629: no overlongs, no surrogates), or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number
    if (c < 0x80) {
      i++
      continue
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (n < 0 || i + n >= b.length) return i
    const c1 = b[i + 1] as number
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf
    if (c1 < lo || c1 > hi) return i
    for (let k = 2; k <= n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return i
    i += n + 1
  }
  return -1
}

const lenient = (): ((b: Uint8Array) => string) => {
  const d = new TextDecoder('utf-8')
  return (b) => {
    if (invalidUtf8At(b) >= 0) throw new TypeError('The encoded data was not valid UTF-8')
    return d.decode(b)
  }
}

let decoder: ((b: Uint8Array) => string) | undefined

/** Decodes UTF-8, throwing a TypeError on malformed bytes. */
export function decodeUtf8Strict(b: Uint8Array): string {
  decoder ??= nativeStrict() ?? lenient()
  return decoder(b)
}
