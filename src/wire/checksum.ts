import CRC32 from 'crc-32'

/**
 * CRC-32 (IEEE, the zlib one) with continuation from a previous value, and CRC-8 for tiny frames.
 *
 * Node ships a native CRC-32 (zlib.crc32, Node ≥ 20.15) that is ~3× faster than the best JS; it is
 * picked up through process.getBuiltinModule when present, so the core keeps no Node-only import
 * and runs unchanged in browsers and React Native.
 */
type Crc32Fn = (data: Uint8Array, previous: number) => number

function nodeCrc32(): Crc32Fn | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { crc32?: (data: Uint8Array, value?: number) => number } | undefined
  const native = zlib?.crc32
  return native ? (data, previous) => native(data, previous) >>> 0 : undefined
}

const jsCrc32: Crc32Fn = (data, previous) => CRC32.buf(data, previous | 0) >>> 0

export const crc32: Crc32Fn = nodeCrc32() ?? jsCrc32
export const crc32Portable: Crc32Fn = jsCrc32

// CRC-8/AUTOSAR polynomial 0x2F: Hamming distance 4 up to 119 data bits, 3 up to 247 — every
// single- and double-bit error in a 20-byte BLE frame is caught.
const CRC8_TABLE = (() => {
  const t = new Uint8Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x2f) & 0xff : (c << 1) & 0xff
    t[i] = c
  }
  return t
})()

export function crc8(data: Uint8Array, previous = 0xff): number {
  let c = previous & 0xff
  for (let i = 0; i < data.length; i++) c = CRC8_TABLE[c ^ (data[i] as number)] as number
  return c
}
