import { base64urlnopad } from '@scure/base'

export const b64u = {
  encode: (b: Uint8Array): string => base64urlnopad.encode(b),
  /** Lenient about trailing '=' padding, which some implementations emit. */
  decode: (s: string): Uint8Array => base64urlnopad.decode(s.replace(/=+$/, '')),
  encodeJson: (v: unknown): string => base64urlnopad.encode(new TextEncoder().encode(JSON.stringify(v))),
}
