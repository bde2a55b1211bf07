import type { IClientOptions, MqttClient } from 'mqtt'
import { CarrierError } from '../../src/transport.js'
import { loadOptional } from '../optional.js'
import { storeWithoutCopy } from './outgoing-store.js'
import { skipPacketIdCache } from './packet-numbers.js'

export class BrokerUnreachableError extends CarrierError {
  constructor(message: string, cause?: unknown) {
    super('ERR_BROKER_UNREACHABLE', message, { cause })
  }
}
export class BrokerRefusedError extends CarrierError {
  constructor(message: string, cause?: unknown) {
    super('ERR_BROKER_REFUSED', message, { cause })
  }
}
export class TlsError extends CarrierError {
  constructor(message: string, cause?: unknown) {
    super('ERR_TLS', message, { cause })
  }
}
export class SubscriptionRefusedError extends CarrierError {
  constructor(topic: string) {
    super('ERR_SUBSCRIBE_REFUSED', `the broker refused the subscription to ${topic}`)
  }
}

export interface MqttConnectOptions {
  /** Stable client id: with a persistent session the broker keeps QoS 1 frames while we are away. */
  clientId?: string
  username?: string
  password?: string
  /** TLS (mqtts://, wss://): the CA to trust, and a client certificate if the broker wants one. */
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  /** 5 or 4 (3.1.1). Default: try 5, fall back to 3.1.1 if the broker does not speak 5. */
  protocolVersion?: 4 | 5
  connectTimeoutMs?: number
  /** Reconnect interval once connected (the first connection is tried once). Default 1000 ms. */
  reconnectPeriodMs?: number
  /**
   * Keep the session (subscriptions and queued QoS 1 frames) while disconnected. Default true.
   * Consumers of a shared inbox should say false: brokers keep handing a share of the inbox to a
   * dead consumer's persistent session.
   */
  persistentSession?: boolean
}

export interface ConnectedClient {
  client: MqttClient
  clientId: string
  protocolVersion: 4 | 5
  /** Largest packet the broker accepts, when it says (MQTT 5 CONNACK). */
  brokerMaxPacket: number | undefined
}

const TLS_CODES = /CERT|SSL|TLS|ALTNAME|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO/

type MqttModule = { connect(url: string, opts: IClientOptions): MqttClient }

/**
 * Connects once, with typed errors and no retry loop for a broker that is down or refusing; only
 * after a first success does the client reconnect on its own. TLS schemes never fall back to
 * plain TCP, and certificates are always verified.
 */
export async function connectMqtt(broker: string, options: MqttConnectOptions = {}): Promise<ConnectedClient> {
  const mqtt = await loadOptional<MqttModule>('mqtt', 'the MQTT adapter')
  await skipPacketIdCache()
  const clientId = options.clientId ?? `carrier-${Math.random().toString(36).slice(2, 12)}`
  const versions: (4 | 5)[] = options.protocolVersion ? [options.protocolVersion] : [5, 4]
  let lastError: unknown
  for (const protocolVersion of versions) {
    try {
      return await attempt(mqtt, broker, clientId, protocolVersion, options)
    } catch (err) {
      lastError = err
      if (!(err instanceof UnsupportedVersion)) throw err
    }
  }
  throw new BrokerRefusedError(`the broker at ${broker} speaks neither MQTT 5 nor 3.1.1`, lastError)
}

class UnsupportedVersion extends Error {}

function attempt(
  mqtt: MqttModule,
  broker: string,
  clientId: string,
  protocolVersion: 4 | 5,
  o: MqttConnectOptions,
): Promise<ConnectedClient> {
  const client = mqtt.connect(broker, {
    clientId,
    protocolVersion,
    clean: o.persistentSession === false,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.persistentSession === false ? 0 : 3600 } } : {}),
    username: o.username,
    password: o.password,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
    resubscribe: true,
  })
  // QoS 1 publishes wait for their PUBACK in the store without a copy of their payload
  storeWithoutCopy(client)
  // Frames are small and answered at once: Nagle + delayed ACK would add ~40 ms to each exchange.
  const noDelay = () => (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true)
  client.on('connect', noDelay)
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      client.end(true)
      reject(err)
    }
    client.once('connect', (connack) => {
      if (settled) return
      settled = true
      client.removeAllListeners('error')
      // Errors after the first connection are handled by reconnecting; keep them from crashing.
      client.on('error', () => {})
      client.options.reconnectPeriod = o.reconnectPeriodMs ?? 1000
      resolve({ client, clientId, protocolVersion, brokerMaxPacket: connack.properties?.maximumPacketSize })
    })
    client.once('error', (err: Error & { code?: string | number }) => fail(mapError(broker, err, protocolVersion)))
    client.once('close', () => fail(new BrokerUnreachableError(`could not connect to the broker at ${broker}`)))
  })
}

function mapError(broker: string, err: Error & { code?: string | number }, version: 4 | 5): Error {
  const code = err.code
  // 1 = unacceptable protocol version (3.1.1), 132 = unsupported protocol version (5)
  if (version === 5 && (code === 1 || code === 132)) return new UnsupportedVersion(err.message)
  if (typeof code === 'number')
    return new BrokerRefusedError(`the broker at ${broker} refused the connection: ${err.message}`, err)
  if (typeof code === 'string' && TLS_CODES.test(code))
    return new TlsError(`TLS with ${broker} failed (${code}): ${err.message}`, err)
  if (/certificate|ssl|tls/i.test(err.message)) return new TlsError(`TLS with ${broker} failed: ${err.message}`, err)
  return new BrokerUnreachableError(`could not connect to the broker at ${broker}: ${err.message}`, err)
}
