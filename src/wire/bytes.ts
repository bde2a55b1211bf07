/** Unsigned LEB128 varints and big-endian integers: the only number encodings on the wire. */

import { decodeUtf8Strict } from './utf8.js'
export function varintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    len++
  }
  return len
}

export function writeVarint(buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  buf[offset++] = n
  return offset
}

/** Returns [value, nextOffset], or undefined when truncated or longer than 5 bytes. */
export function readVarint(buf: Uint8Array, offset: number): [number, number] | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 5; i++) {
    const b = buf[offset + i]
    if (b === undefined) return undefined
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return [value, offset + i + 1]
    scale *= 128
  }
  return undefined
}

export function writeU32(buf: Uint8Array, offset: number, n: number): number {
  buf[offset] = n >>> 24
  buf[offset + 1] = n >>> 16
  buf[offset + 2] = n >>> 8
  buf[offset + 3] = n
  return offset + 4
}

export function readU32(buf: Uint8Array, offset: number): number {
  return (
    (((buf[offset] as number) << 24) |
      ((buf[offset + 1] as number) << 16) |
      ((buf[offset + 2] as number) << 8) |
      (buf[offset + 3] as number)) >>>
    0
  )
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => decodeUtf8Strict(b),
}

export function toHex32(n: number): string {
  return n.toString(16).padStart(8, '0')
}
