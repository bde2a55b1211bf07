import { MEDIA_ENCRYPTED, MEDIA_PLAIN, MEDIA_SIGNED } from '../../src/wire/media.js'
import { parseMqttEndpoint } from '../mqtt/uri.js'

export const HTTP_SCHEMES = ['http:', 'https:'] as const
export const WS_SCHEMES = ['ws:', 'wss:'] as const

/** The Content-Types a DIDComm HTTP endpoint takes (DIDComm v2.1 "Transports": the three media types). */
export const DIDCOMM_MEDIA_TYPES: readonly string[] = [MEDIA_ENCRYPTED, MEDIA_SIGNED, MEDIA_PLAIN]

/** `application/didcomm-encrypted+json; charset=utf-8` → `application/didcomm-encrypted+json`. */
export function bareMediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? ''
}

/** The text is one JSON object (a DIDComm envelope's outer shape). */
export function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v)
  } catch {
    return false
  }
}

/** An MQTT-over-WebSocket inbox (ws://host/…/didcomm/v2/<rk>/in) is MQTT's, not ours. */
export function isDidcommWebUri(uri: string): boolean {
  if (!/^wss?:/i.test(uri)) return /^https?:/i.test(uri)
  try {
    parseMqttEndpoint(uri)
    return false
  } catch {
    return true
  }
}
