import { readU32, readVarint, varintLength, writeU32, writeVarint } from './bytes.js'
import { crc8, crc32 } from './checksum.js'

/**
 * The frame codec. Byte 0 = version (top 3 bits, 101 = v1) and kind, so it is never `{` or `[`
 * and a bare DIDComm JSON envelope can share the channel:
 *
 *   0xA0|type  control frame: START, REPORT, DONE, REJECT, CANCEL, SYMBOL, ending in a CRC-32
 *   0xB0|slot  DATA frame of the transfer the sender put in `slot` (0..15)
 *
 * DATA is the hot frame and on a 20-byte BLE frame every byte is 5 %, so it carries only
 * [b0][seq mod 2^8 or 2^16][payload][check]. The check is a CRC over a pseudo-header (transfer id,
 * full sequence number) followed by the frame — as TCP's checksum covers its pseudo-header — so a
 * stale frame of another transfer, or a sequence number resolved into the wrong window, fails the
 * check instead of being assembled. Compact transfers (segments ≤ 64 bytes) use a 1-byte
 * sequence and CRC-8; the others a 2-byte sequence and CRC-32. On intact links (FLAG_INTACT) the
 * check leaves out the payload: TCP/TLS already verified it, and the stream digest covers it again.
 */
export const VERSION_BITS = 0xa0
export const DATA_BITS = 0xb0
export const MAX_SLOTS = 16
export const MIN_MTU = 20

export const T_START = 0
export const T_REPORT = 1
export const T_DONE = 2
export const T_REJECT = 3
export const T_CANCEL = 4
export const T_SYMBOL = 5
/** A receiver got DATA in a slot it holds no transfer for (wire 1.1; older peers ignore it). */
export const T_FORGOT = 6
/**
 * The receiver's REPORT in answer to a START that carried FLAG_ANSWER (wire 1.2): same layout as
 * REPORT. The sender knows it reflects every frame it sent before that START (older peers ignore it).
 */
export const T_ANSWER = 7

export const FLAG_MEDIA_MASK = 0b11
export const FLAG_COMPRESSED = 0b100
export const FLAG_COMPACT = 0b1000
/**
 * The sender's link delivers frames whole and unaltered or not at all (TCP/TLS underneath): DATA
 * checks cover the pseudo-header and frame header only, and the stream digest is XXH64.
 */
export const FLAG_INTACT = 0b1_0000
/**
 * START only (wire 1.1): the sender has heard a REPORT for this transfer, so a receiver that knows
 * nothing of the tid lost its state (restarted, evicted, timed out) and says so with REJECT 6
 * instead of starting the transfer afresh while the sender believes earlier segments delivered.
 */
export const FLAG_RESUME = 0b10_0000
/**
 * START only (wire 1.2): answer this START with ANSWER (type 7) instead of REPORT. A 1.1 receiver
 * ignores the bit and answers REPORT, and the sender then keeps the 1.1 time-out behaviour.
 */
export const FLAG_ANSWER = 0b100_0000

export const COMPACT_MAX_SEGMENT = 64

/** Reasons a receiver gives in REJECT; mapped to typed errors on the sending side. */
export const REJECT_TOO_LARGE = 1
export const REJECT_BUSY = 2
export const REJECT_INTEGRITY = 3
export const REJECT_MALFORMED = 4
export const REJECT_HANDLER = 5
/** The receiver holds no state for a transfer the sender was told it had (START with FLAG_RESUME). */
export const REJECT_UNKNOWN = 6

export type ControlFrame =
  | { type: typeof T_START; slot: number; tid: number; flags: number; total: number; segmentSize: number }
  | { type: typeof T_REPORT | typeof T_ANSWER; tid: number; base: number; credit: number; bitmap: Uint8Array }
  | { type: typeof T_DONE; tid: number; digest: Uint8Array }
  | { type: typeof T_REJECT; tid: number; reason: number }
  | { type: typeof T_CANCEL; tid: number }
  | { type: typeof T_SYMBOL; tid: number; flags: number; total: number; symbolId: number; payload: Uint8Array }
  | { type: typeof T_FORGOT; slot: number }

/** Starts like a JSON object (after optional whitespace): a bare envelope, or garbage that looks like one. */
export function isBareJson(frame: Uint8Array): boolean {
  let i = 0
  while (i < frame.length && (frame[i] === 0x20 || frame[i] === 0x0a || frame[i] === 0x0d || frame[i] === 0x09)) i++
  return frame[i] === 0x7b
}

export function isDataFrame(frame: Uint8Array): boolean {
  return frame.length > 0 && ((frame[0] as number) & 0xf0) === DATA_BITS
}

function seal(buf: Uint8Array): Uint8Array {
  writeU32(buf, buf.length - 4, crc32(buf.subarray(0, buf.length - 4), 0))
  return buf
}

export function encodeStart(f: { slot: number; tid: number; flags: number; total: number; segmentSize: number }): Uint8Array {
  const buf = new Uint8Array(1 + 1 + 4 + 1 + varintLength(f.total) + varintLength(f.segmentSize) + 4)
  buf[0] = VERSION_BITS | T_START
  buf[1] = f.slot
  writeU32(buf, 2, f.tid)
  buf[6] = f.flags
  writeVarint(buf, writeVarint(buf, 7, f.total), f.segmentSize)
  return seal(buf)
}

/** REPORT with as much of the bitmap as fits in maxBytes. */
/** REPORT, or ANSWER (`answer`: the reply to a START that carried FLAG_ANSWER). */
export function encodeReport(
  f: { tid: number; base: number; credit: number; bitmap: Uint8Array },
  maxBytes: number,
  answer = false,
): Uint8Array {
  const head = 1 + 4 + varintLength(f.base) + varintLength(f.credit)
  const bitmapBytes = Math.max(0, Math.min(f.bitmap.length, maxBytes - head - 4))
  const buf = new Uint8Array(head + bitmapBytes + 4)
  buf[0] = VERSION_BITS | (answer ? T_ANSWER : T_REPORT)
  writeU32(buf, 1, f.tid)
  const o = writeVarint(buf, writeVarint(buf, 5, f.base), f.credit)
  buf.set(f.bitmap.subarray(0, bitmapBytes), o)
  return seal(buf)
}

export function encodeDone(tid: number, digest: Uint8Array, maxBytes: number): Uint8Array {
  const n = Math.min(digest.length, maxBytes - 9)
  const buf = new Uint8Array(9 + n)
  buf[0] = VERSION_BITS | T_DONE
  writeU32(buf, 1, tid)
  buf.set(digest.subarray(0, n), 5)
  return seal(buf)
}

export function encodeReject(tid: number, reason: number): Uint8Array {
  const buf = new Uint8Array(10)
  buf[0] = VERSION_BITS | T_REJECT
  writeU32(buf, 1, tid)
  buf[5] = reason
  return seal(buf)
}

export function encodeCancel(tid: number): Uint8Array {
  const buf = new Uint8Array(9)
  buf[0] = VERSION_BITS | T_CANCEL
  writeU32(buf, 1, tid)
  return seal(buf)
}

export function encodeForgot(slot: number): Uint8Array {
  const buf = new Uint8Array(6)
  buf[0] = VERSION_BITS | T_FORGOT
  buf[1] = slot
  return seal(buf)
}

export const SYMBOL_OVERHEAD = 1 + 4 + 1 + 4 + 4 + 4

export function encodeSymbol(f: {
  tid: number
  flags: number
  total: number
  symbolId: number
  payload: Uint8Array
}): Uint8Array {
  const buf = new Uint8Array(SYMBOL_OVERHEAD + f.payload.length)
  buf[0] = VERSION_BITS | T_SYMBOL
  writeU32(buf, 1, f.tid)
  buf[5] = f.flags
  writeU32(buf, 6, f.total)
  writeU32(buf, 10, f.symbolId)
  buf.set(f.payload, 14)
  return seal(buf)
}

/** Decodes a control frame; undefined for anything malformed or failing its CRC. */
export function decodeControl(frame: Uint8Array): ControlFrame | undefined {
  if (frame.length < 6 || ((frame[0] as number) & 0xf0) !== VERSION_BITS) return undefined
  const end = frame.length - 4
  if (crc32(frame.subarray(0, end), 0) !== readU32(frame, end)) return undefined
  const type = (frame[0] as number) & 0x0f
  if (type === T_FORGOT) {
    const slot = frame[1] as number
    return end === 2 && slot < MAX_SLOTS ? { type, slot } : undefined
  }
  if (frame.length < 9) return undefined
  switch (type) {
    case T_START: {
      if (end < 9) return undefined
      const slot = frame[1] as number
      if (slot >= MAX_SLOTS) return undefined
      const tid = readU32(frame, 2)
      const flags = frame[6] as number
      const a = readVarint(frame, 7)
      if (!a || a[1] >= end) return undefined
      const b = readVarint(frame, a[1])
      if (!b || b[1] !== end || b[0] === 0) return undefined
      return { type, slot, tid, flags, total: a[0], segmentSize: b[0] }
    }
    case T_REPORT:
    case T_ANSWER: {
      const tid = readU32(frame, 1)
      const a = readVarint(frame, 5)
      if (!a || a[1] > end) return undefined
      const b = readVarint(frame, a[1])
      if (!b || b[1] > end) return undefined
      return { type, tid, base: a[0], credit: b[0], bitmap: frame.subarray(b[1], end) }
    }
    case T_DONE:
      return { type, tid: readU32(frame, 1), digest: frame.subarray(5, end) }
    case T_REJECT:
      if (end !== 6) return undefined
      return { type, tid: readU32(frame, 1), reason: frame[5] as number }
    case T_CANCEL:
      if (end !== 5) return undefined
      return { type, tid: readU32(frame, 1) }
    case T_SYMBOL:
      if (end <= 14) return undefined
      return {
        type,
        tid: readU32(frame, 1),
        flags: frame[5] as number,
        total: readU32(frame, 6),
        symbolId: readU32(frame, 10),
        payload: frame.subarray(14, end),
      }
    default:
      return undefined
  }
}

// ---- DATA -------------------------------------------------------------------------------------

export function dataOverhead(compact: boolean): number {
  return compact ? 3 : 7
}

/** Bytes before a DATA frame's payload: byte 0 and the sequence number. */
function dataHeaderBytes(compact: boolean): number {
  return compact ? 2 : 3
}

export function seqModulus(compact: boolean): number {
  return compact ? 256 : 65536
}

const pseudo = new Uint8Array(8)
function pseudoCheck(tid: number, seq: number, compact: boolean): number {
  writeU32(pseudo, 0, tid)
  writeU32(pseudo, 4, seq)
  return compact ? crc8(pseudo) : crc32(pseudo, 0)
}

export function encodeData(
  slot: number,
  tid: number,
  seq: number,
  compact: boolean,
  payload: Uint8Array,
  headerOnly = false,
  alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n),
): Uint8Array {
  const head = dataHeaderBytes(compact)
  const buf = alloc(head + payload.length + (compact ? 1 : 4))
  buf[0] = DATA_BITS | slot
  if (compact) buf[1] = seq & 0xff
  else {
    buf[1] = (seq >>> 8) & 0xff
    buf[2] = seq & 0xff
  }
  const end = head + payload.length
  buf.set(payload, head)
  const seed = pseudoCheck(tid, seq, compact)
  const checked = buf.subarray(0, headerOnly ? head : end)
  if (compact) buf[end] = crc8(checked, seed)
  else writeU32(buf, end, crc32(checked, seed))
  return buf
}

export function dataSlot(frame: Uint8Array): number {
  return (frame[0] as number) & 0x0f
}

/** The sequence number modulo the transfer's modulus, or undefined when the frame is too short. */
export function dataSeqLow(frame: Uint8Array, compact: boolean): number | undefined {
  if (frame.length < dataOverhead(compact) + 1) return undefined
  return compact ? (frame[1] as number) : ((frame[1] as number) << 8) | (frame[2] as number)
}

/**
 * Verifies a DATA frame against the transfer and the resolved full sequence; returns its payload.
 * `headerOnly` for transfers flagged FLAG_INTACT.
 */
export function openData(
  frame: Uint8Array,
  tid: number,
  seq: number,
  compact: boolean,
  headerOnly = false,
): Uint8Array | undefined {
  const seed = pseudoCheck(tid, seq, compact)
  const head = dataHeaderBytes(compact)
  if (compact) {
    const end = frame.length - 1
    if (crc8(frame.subarray(0, headerOnly ? head : end), seed) !== frame[end]) return undefined
    return frame.subarray(head, end)
  }
  const end = frame.length - 4
  if (crc32(frame.subarray(0, headerOnly ? head : end), seed) !== readU32(frame, end)) return undefined
  return frame.subarray(head, end)
}
