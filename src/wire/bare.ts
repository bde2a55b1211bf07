import { MEDIA_ENCRYPTED, MEDIA_PLAIN, MEDIA_SIGNED } from './media.js'

import { decodeUtf8Strict } from './utf8.js'

/**
 * The media type of a bare DIDComm envelope (one frame, not chunked), or undefined when the bytes
 * are not one: valid UTF-8, one JSON object, shaped as a JWE (`protected`, `ciphertext`, `iv`,
 * `tag`, and `recipients` or a flattened `header`), a JWS (`payload`, `signatures`) or a plaintext
 * message (`id`, `type`). Anything else that merely starts with `{` is garbage, not a message.
 */
export function bareEnvelopeMediaType(frame: Uint8Array): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(decodeUtf8Strict(frame))
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const o = value as Record<string, unknown>
  const str = (k: string) => typeof o[k] === 'string'
  if (str('protected') && str('ciphertext') && str('iv') && str('tag') && (Array.isArray(o.recipients) || isObject(o.header)))
    return MEDIA_ENCRYPTED
  if (str('payload') && Array.isArray(o.signatures)) return MEDIA_SIGNED
  if (str('id') && str('type')) return MEDIA_PLAIN
  return undefined
}

function isObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}
