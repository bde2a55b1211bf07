import { b64u } from '../didcomm/b64u.js'
import { err } from '../didcomm/errors.js'
import { FORWARD_TYPE, type Message } from '../didcomm/pack.js'
import { decodeUtf8Strict } from '../wire/utf8.js'

export { FORWARD_TYPE, wrapForward } from '../didcomm/pack.js'

/**
 * Routing 2.0, the mediator's side: `next` and the envelope to pass on. The attachment may be JSON
 * (an object, or — as the Identus SDK sends it — the envelope as a JSON string) or base64(url).
 */
export function forwardOf(message: Message): { next: string; envelope: string; expiresTime?: number } {
  if (message.type !== FORWARD_TYPE) throw err.malformed('not a forward message')
  const next = message.body?.next
  const data = message.attachments?.[0]?.data
  if (typeof next !== 'string' || next === '' || !data) throw err.malformed('forward without next or attachment')
  const expires = typeof message.expires_time === 'number' ? { expiresTime: message.expires_time } : {}
  if (typeof data.json === 'string') return { next, envelope: data.json, ...expires }
  if (data.json && typeof data.json === 'object') return { next, envelope: JSON.stringify(data.json), ...expires }
  if (typeof data.base64 === 'string') return { next, envelope: decodeBase64Text(data.base64), ...expires }
  throw err.malformed('forward attachment is neither json nor base64')
}

/** base64 or base64url, padded or not, as UTF-8 text. */
export function decodeBase64Text(s: string): string {
  try {
    return decodeUtf8Strict(b64u.decode(s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')))
  } catch {
    throw err.malformed('attachment base64 is not base64 UTF-8 text')
  }
}
