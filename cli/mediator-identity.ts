import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { makeMqttEndpoint, newInboxKey } from '../adapters/mqtt/index.js'
import type { PeerIdentity } from '../src/did/peer.js'
import { mediatorIdentity } from '../src/mediator/mediator.js'
import { CarrierError } from '../src/transport.js'
import type { StoreAdmin } from '../stores/admin.js'
import { loadIdentity } from './identity.js'

/** The mediator's kept DID serves other endpoints than this start would: refused, never ignored. */
export class IdentityEndpointsError extends CarrierError {
  constructor(message: string) {
    super('ERR_IDENTITY_ENDPOINTS', message)
  }
}

/** The endpoints of a DID document's services, in order. */
export function endpointsOf(id: PeerIdentity): string[] {
  return (id.document.service ?? []).flatMap((s) => {
    const eps = Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]
    return eps.map((e) => (typeof e === 'string' ? e : e.uri))
  })
}

const isMqtt = (e: string) => /^mqtts?:/.test(e)
/** An MQTT endpoint's broker (its inbox key is the mediator's own and stays as it was made). */
const brokerOf = (e: string) => {
  const u = new URL(e)
  return `${u.protocol}//${u.host}`
}

export interface MediatorIdentityOptions {
  /** Where the identity is kept when no --identity file is given (memory: keeps nothing). */
  admin: StoreAdmin
  /** --identity FILE: kept in this file instead (created on first start). */
  file?: string
  /** The HTTP(S) endpoint (--public-url, or http://127.0.0.1:<port>/). */
  httpUrl: string
  /** --ws: the ws(s) endpoint derived from httpUrl too. */
  ws: boolean
  /** --mqtt broker: an inbox there too. */
  mqtt?: string
  /** --rotate-identity: a kept identity with other endpoints is replaced by a new one. */
  rotate: boolean
}

/**
 * The mediator's identity: kept in the --identity file, else with the store (SQLite, PostgreSQL),
 * else fresh. A kept identity whose endpoints are not the ones this start serves is refused with
 * the flag that rotates it.
 */
export async function mediatorIdentityFor(o: MediatorIdentityOptions): Promise<{ identity: PeerIdentity; kept: boolean }> {
  const web = [o.httpUrl, ...(o.ws ? [o.httpUrl.replace(/^http/, 'ws')] : [])]
  const fresh = () => mediatorIdentity([...web, ...(o.mqtt ? [makeMqttEndpoint(o.mqtt, newInboxKey())] : [])])
  const candidate = fresh()
  let kept: PeerIdentity
  let where: string
  if (o.file) {
    where = `the identity file ${o.file}`
    if (!existsSync(o.file)) {
      await writeFile(o.file, `${JSON.stringify(candidate, null, 2)}\n`, { mode: 0o600 })
      return { identity: candidate, kept: false }
    }
    kept = await loadIdentity(o.file)
  } else {
    if (!o.admin.durable) return { identity: candidate, kept: false }
    where = 'the store'
    kept = await o.admin.keepIdentity(candidate)
    if (kept.did === candidate.did) return { identity: candidate, kept: false }
  }
  const have = endpointsOf(kept)
  const hostOf = (e: string) => new URL(e).host
  const broker = o.mqtt ? brokerOf(makeMqttEndpoint(o.mqtt, 'x')) : undefined
  const brokers = have.filter(isMqtt).map(brokerOf)
  // what we would serve must be in the DID, and what the DID names at our own address we must serve
  // (endpoints at other addresses are other instances', as a DID naming several deployments has)
  const same =
    web.every((e) => have.includes(e)) &&
    have.every((e) => isMqtt(e) || hostOf(e) !== hostOf(o.httpUrl) || web.includes(e)) &&
    (broker ? brokers.includes(broker) : brokers.length === 0)
  if (same) return { identity: kept, kept: true }
  if (!o.rotate) {
    const wanted = [...web, ...(o.mqtt ? [`${o.mqtt} (inbox)`] : [])]
    throw new IdentityEndpointsError(
      `the mediator DID kept in ${where} serves ${have.join(' ')}, this start would serve ${wanted.join(' ')}: ` +
        'start with the same --public-url/--http, --ws and --mqtt, or add --rotate-identity to make a new DID ' +
        '(its clients must then ask for mediation again)',
    )
  }
  if (o.file) await writeFile(o.file, `${JSON.stringify(candidate, null, 2)}\n`, { mode: 0o600 })
  else await o.admin.replaceIdentity(candidate)
  return { identity: candidate, kept: false }
}

/** The identity's MQTT inbox at this broker, if it has one. */
export function mqttEndpointAt(identity: PeerIdentity, broker: string | undefined): string | undefined {
  if (!broker) return undefined
  const b = brokerOf(makeMqttEndpoint(broker, 'x'))
  return endpointsOf(identity).find((e) => isMqtt(e) && brokerOf(e) === b)
}
