import { base64urlnopad } from '@scure/base'
import { err } from './errors.js'

/**
 * base64url without padding. Node's Buffer codec (reached through process.getBuiltinModule, so the
 * core keeps no Node import) is ~50× faster on megabyte envelopes than the portable one.
 */
type NodeBuffer = {
  from(v: string, enc: string): Uint8Array
  from(v: ArrayBufferLike, offset: number, length: number): Uint8Array & { toString(enc: string): string }
}
const NodeBuf = (
  (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:buffer') as
    | { Buffer: NodeBuffer }
    | undefined
)?.Buffer

const VALID = /^[A-Za-z0-9_-]*$/
/** From this length on, decode checks the alphabet by the decoded length instead of VALID. */
const LARGE = 4096

function encode(b: Uint8Array): string {
  if (NodeBuf) return NodeBuf.from(b.buffer, b.byteOffset, b.length).toString('base64url')
  return base64urlnopad.encode(b)
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The unused low bits of the last character must be zero, or two strings decode to the same bytes. */
function canonicalTail(t: string): boolean {
  const rest = t.length % 4
  if (rest === 0) return true
  const v = ALPHABET.indexOf(t[t.length - 1] as string)
  return rest === 2 ? (v & 0x0f) === 0 : (v & 0x03) === 0
}

function decode(s: string): Uint8Array {
  // lenient about trailing '=' padding, which some implementations emit; strict about the rest
  let end = s.length
  while (end > 0 && s.charCodeAt(end - 1) === 61 /* = */) end--
  const t = end === s.length ? s : s.slice(0, end)
  if (NodeBuf) {
    if (t.length % 4 === 1 || !canonicalTail(t)) throw err.malformed('invalid base64url')
    if (t.length < LARGE) {
      if (!VALID.test(t)) throw err.malformed('invalid base64url')
    } else if (t.includes('+') || t.includes('/')) throw err.malformed('invalid base64url')
    const b = NodeBuf.from(t, 'base64url')
    // Node skips characters outside the alphabet (and stops at '='): any such character leaves
    // fewer bytes than the length promises — a check that costs nothing on megabyte envelopes,
    // where the regular expression took as long as the decoding
    if (b.length !== Math.floor((t.length * 3) / 4)) throw err.malformed('invalid base64url')
    return new Uint8Array(b.buffer, b.byteOffset, b.length)
  }
  try {
    return base64urlnopad.decode(t)
  } catch {
    throw err.malformed('invalid base64url')
  }
}

export const b64u = {
  encode,
  decode,
  encodeJson: (v: unknown): string => encode(new TextEncoder().encode(JSON.stringify(v))),
}
