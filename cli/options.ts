import { InvalidArgumentError } from 'commander'
import { parseHci } from '../adapters/ble/hci.js'
import { isTopicSafe } from '../adapters/mqtt/topics.js'
import { MQTT_SCHEMES } from '../adapters/mqtt/uri.js'
import { didKeyDocument } from '../src/did/key.js'
import { didPeer2Document } from '../src/did/peer.js'

/**
 * Parsers for commander options: each checks one kind of value and its range, and says what it
 * expected. Commander prints "error: option '--x <v>' argument 'bad' is invalid. <what>" and the
 * command exits 1. Every option that takes a value uses one (test/cli/options.test.ts walks them).
 */
type Parser<T> = (value: string) => T

function fail(expected: string): never {
  throw new InvalidArgumentError(`Expected ${expected}.`)
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER, what = 'an integer'): Parser<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`
  return (v) => {
    if (!/^\s*[+-]?\d+\s*$/.test(v)) fail(`${what} ${range}`)
    const n = Number(v)
    if (n < min || n > max) fail(`${what} ${range}`)
    return n
  }
}

export function decimal(min: number, max: number, what = 'a number'): Parser<number> {
  return (v) => {
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) fail(`${what} from ${min} to ${max}`)
    return n
  }
}

/** Milliseconds for a time-out (what setTimeout accepts). */
export const ms = integer(1, 2_147_483_647, 'milliseconds,')
export const port = integer(0, 65_535, 'a TCP port')
export const count = integer(1, Number.MAX_SAFE_INTEGER, 'a count')
export const probability = decimal(0, 1, 'a probability')

export function oneOf<T extends string>(values: readonly T[], o: { caseless?: boolean } = {}): Parser<T> {
  return (v) => {
    const hit = values.find((x) => (o.caseless ? x.toLowerCase() === v.toLowerCase() : x === v))
    if (!hit) fail(`one of ${values.join(', ')}`)
    return hit
  }
}

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%-]+(:[A-Za-z0-9._%-]+)*$/

const DID_HINT = 'e.g. the "did" of an identity file (jq -r .did bob.json)'

/** A DID; did:key and did:peer:2 are decoded here, so a cut or mistyped one is named as such. */
export const did: Parser<string> = (v) => {
  if (!DID.test(v)) fail(`a DID: did:<method>:<id>, ${DID_HINT}`)
  const decode = v.startsWith('did:key:') ? didKeyDocument : v.startsWith('did:peer:2') ? didPeer2Document : undefined
  try {
    decode?.(v)
  } catch (err) {
    fail(
      `a complete ${v.startsWith('did:key:') ? 'did:key' : 'did:peer:2'} DID (this one does not decode: ${(err as Error).message}), ${DID_HINT}`,
    )
  }
  return v
}

/** A recipient key (inbox topic name) or the DID URL of a key agreement key (did:…#key-1). */
export const inbox: Parser<string> = (v) => {
  const [base, fragment, ...rest] = v.split('#')
  if (isTopicSafe(v) || (DID.test(base as string) && rest.length === 0 && (fragment === undefined || /^[\w.-]+$/.test(fragment))))
    return v
  fail('a recipient key (1–64 of A–Z a–z 0–9 _ -) or the DID URL of a key (did:…#key-1)')
}

export function uri(schemes: readonly string[]): Parser<string> {
  const list = schemes.map((s) => `${s}//`).join(', ')
  return (v) => {
    let u: URL
    try {
      u = new URL(v)
    } catch {
      fail(`a URI (${list})`)
    }
    if (!schemes.includes(u.protocol)) fail(`a URI with one of ${list}`)
    return v
  }
}

export const mqttUri = uri(MQTT_SCHEMES)
/** Where an agent is reached: its own endpoint (ws:// and wss:// are DIDComm's or MQTT's, by their path). */
export const endpointUri = uri(['mqtt:', 'mqtts:', 'http:', 'https:', 'ws:', 'wss:', 'ble:'])

export const hci: Parser<string> = (v) => {
  try {
    parseHci(v)
  } catch {
    fail('an HCI transport: hci:N (or hciN), uart:PATH[@BAUD] or unix:PATH')
  }
  return v
}

export const mediaType: Parser<string> = (v) => {
  if (!/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(v)) fail('a media type, e.g. application/pdf')
  return v
}

export const jsonObject: Parser<string> = (v) => {
  let parsed: unknown
  try {
    parsed = JSON.parse(v)
  } catch {
    fail('a JSON object, e.g. \'{"body":{"content":"hi"}}\'')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('a JSON object')
  return v
}

/** Free text that must not be empty (a token, a name, a host). */
export function text(what: string): Parser<string> {
  return (v) => {
    if (v.trim() === '') fail(what)
    return v
  }
}

export const host = text('a host name or address')
export const token = text('a token')
export const goal = text('a goal')
export const readerName = text('part of a reader name')
export const png: Parser<string> = (v) => {
  if (!/\.png$/i.test(v)) fail('a file name ending in .png')
  return v
}

/** An MQTT shared-subscription group: it becomes a topic level. */
export const group: Parser<string> = (v) => {
  if (!isTopicSafe(v)) fail('a group name of 1–64 of A–Z a–z 0–9 _ -')
  return v
}

export const invitationUrl: Parser<string> = (v) => {
  try {
    const u = new URL(v)
    if (u.searchParams.get('_oob')) return v
  } catch {}
  fail('an invitation URL with an _oob parameter (carrier invite prints one)')
}
export const file = text('a file name')
export const folder = text('a folder name')

/** Where a server listens: `:8080` (every interface) or `host:port`. */
export const listenAddress: Parser<{ host: string; port: number }> = (v) => {
  const m = /^(.*):(\d{1,5})$/.exec(v)
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || port > 65_535) fail('[host]:port, e.g. :8080 or 127.0.0.1:8080')
  return { host: m[1] || '0.0.0.0', port }
}

/** A mediator's message store: memory:, sqlite:FILE or postgres://… */
export const storeUri: Parser<string> = (v) => {
  if (v === 'memory:' || /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v)) return v
  fail('a store URI: memory:, sqlite:FILE or postgres://user@host:port/db')
}

export const httpUrl = uri(['http:', 'https:'])
export const sizeBytes = integer(1024, 64 * 1024 * 1024, 'a size in bytes')
