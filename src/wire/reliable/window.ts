import { MtuTooSmallError } from '../../transport.js'
import { COMPACT_MAX_SEGMENT, dataOverhead, MIN_MTU, seqModulus } from '../frame.js'

const MAX_SEGMENT = 4 * 1024 * 1024
const MAX_WINDOW = 4096

/** Segment size and sequence width for a link MTU: compact frames when a segment is ≤ 64 bytes. */
export function segmentPlan(mtu: number): { segmentSize: number; compact: boolean } {
  if (!Number.isFinite(mtu) || mtu < MIN_MTU) throw new MtuTooSmallError(`link MTU ${mtu} is below the ${MIN_MTU}-byte minimum`)
  const compactSize = mtu - dataOverhead(true)
  if (compactSize <= COMPACT_MAX_SEGMENT) return { segmentSize: compactSize, compact: true }
  return { segmentSize: Math.min(MAX_SEGMENT, mtu - dataOverhead(false)), compact: false }
}

/**
 * Segments a sender may have beyond the receiver's first gap. Below half the sequence modulus,
 * so a receiver can always tell a retransmission from a new segment.
 */
export function windowSegments(segmentSize: number, compact: boolean, windowBytes: number): number {
  const half = seqModulus(compact) / 2 - 1
  return Math.max(4, Math.min(half, MAX_WINDOW, Math.floor(windowBytes / segmentSize)))
}

/** The full sequence number of a DATA frame from its low bits, given the receiver's first gap. */
export function resolveSeq(low: number, base: number, compact: boolean): number {
  const m = seqModulus(compact)
  const lo = base - m / 2
  return lo + ((((low - lo) % m) + m) % m)
}
