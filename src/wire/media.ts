import { utf8 } from './bytes.js'

/** DIDComm's three media types travel as a 2-bit code; anything else as a string in the stream. */
export const MEDIA_ENCRYPTED = 'application/didcomm-encrypted+json'
export const MEDIA_SIGNED = 'application/didcomm-signed+json'
export const MEDIA_PLAIN = 'application/didcomm-plain+json'
export const MEDIA_OCTETS = 'application/octet-stream'

const CODES = [MEDIA_ENCRYPTED, MEDIA_SIGNED, MEDIA_PLAIN] as const
export const MEDIA_CODE_CUSTOM = 3

export function mediaCode(mediaType: string): number {
  const i = (CODES as readonly string[]).indexOf(mediaType)
  return i === -1 ? MEDIA_CODE_CUSTOM : i
}

export function mediaFromCode(code: number): string | undefined {
  return CODES[code]
}

/**
 * The media type of an envelope the caller did not label: a JSON object with `ciphertext` is a
 * JWE, with `signatures` a JWS, with `type`/`id` a plaintext message; anything else is octets.
 */
export function sniffMediaType(data: Uint8Array | string): string {
  const text = typeof data === 'string' ? data : decodeIfJsonObject(data)
  if (text === undefined || !/^\s*\{/.test(text)) return MEDIA_OCTETS
  if (text.includes('"ciphertext"')) return MEDIA_ENCRYPTED
  if (text.includes('"signatures"') || text.includes('"signature"')) return MEDIA_SIGNED
  if (text.includes('"type"')) return MEDIA_PLAIN
  return 'application/json'
}

function decodeIfJsonObject(data: Uint8Array): string | undefined {
  let i = 0
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++
  if (data[i] !== 0x7b) return undefined
  try {
    return utf8.decode(data)
  } catch {
    return undefined
  }
}

export function isJsonLike(mediaType: string): boolean {
  return mediaType.endsWith('+json') || mediaType === 'application/json'
}
