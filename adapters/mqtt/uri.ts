import { CarrierError } from '../../src/transport.js'
import { isTopicSafe, TOPIC_ROOT } from './topics.js'

export const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'] as const

export interface MqttEndpoint {
  /** Broker URL without the topic: mqtt://host:1883, wss://host/mqtt … */
  broker: string
  /** The recipient key of the inbox. */
  rk: string
  /** The inbox topic. */
  topic: string
}

export class InvalidEndpointError extends CarrierError {
  constructor(message: string) {
    super('ERR_INVALID_ENDPOINT', message)
  }
}

/**
 * A DIDCommMessaging service endpoint for an MQTT inbox: the broker URL whose path ends with the
 * inbox topic, e.g. mqtts://broker.example:8883/didcomm/v2/<rk>/in. For ws:// and wss:// the part
 * before /didcomm/v2/ is the WebSocket path (wss://host/mqtt/didcomm/v2/<rk>/in).
 */
export function parseMqttEndpoint(uri: string): MqttEndpoint {
  let u: URL
  try {
    u = new URL(uri)
  } catch {
    throw new InvalidEndpointError(`not a URI: ${uri}`)
  }
  if (!(MQTT_SCHEMES as readonly string[]).includes(u.protocol)) {
    throw new InvalidEndpointError(`not an MQTT endpoint (scheme ${u.protocol}): ${uri}`)
  }
  const marker = `/${TOPIC_ROOT}/`
  const at = u.pathname.indexOf(marker)
  if (at === -1) throw new InvalidEndpointError(`no ${TOPIC_ROOT}/<rk>/in topic in ${uri}`)
  const parts = u.pathname.slice(at + marker.length).split('/')
  const rk = parts[0] ?? ''
  if (!isTopicSafe(rk) || parts[1] !== 'in' || parts.length !== 2) {
    throw new InvalidEndpointError(`expected ${TOPIC_ROOT}/<rk>/in in ${uri}`)
  }
  const basePath = u.pathname.slice(0, at)
  const broker = `${u.protocol}//${u.host}${basePath}`
  return { broker, rk, topic: `${TOPIC_ROOT}/${rk}/in` }
}

export function makeMqttEndpoint(broker: string, rk: string): string {
  if (!isTopicSafe(rk)) throw new InvalidEndpointError(`recipient key is not topic-safe: ${rk}`)
  const b = new URL(broker)
  if (!(MQTT_SCHEMES as readonly string[]).includes(b.protocol))
    throw new InvalidEndpointError(`not an MQTT broker URL: ${broker}`)
  const path = b.pathname === '/' ? '' : b.pathname.replace(/\/$/, '')
  return `${b.protocol}//${b.host}${path}/${TOPIC_ROOT}/${rk}/in`
}
