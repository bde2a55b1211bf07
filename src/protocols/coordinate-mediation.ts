import { err } from '../didcomm/errors.js'
import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'

/**
 * Coordinate Mediation 2.0 and 3.0. The two differ in names (keylist-* → recipient-*) and in the
 * grant's routing_did: a string in 2.0 (the Identus SDK reads it so), an array in 3.0 (Veramo takes [0]).
 */
export type CmVersion = '2.0' | '3.0'
export type CmKind = 'mediate-request' | 'mediate-grant' | 'mediate-deny' | 'update' | 'update-response' | 'query' | 'list'

const NAMES: Record<CmVersion, Record<CmKind, string>> = {
  '2.0': {
    'mediate-request': 'mediate-request',
    'mediate-grant': 'mediate-grant',
    'mediate-deny': 'mediate-deny',
    update: 'keylist-update',
    'update-response': 'keylist-update-response',
    query: 'keylist-query',
    list: 'keylist',
  },
  '3.0': {
    'mediate-request': 'mediate-request',
    'mediate-grant': 'mediate-grant',
    'mediate-deny': 'mediate-deny',
    update: 'recipient-update',
    'update-response': 'recipient-update-response',
    query: 'recipient-query',
    list: 'recipient',
  },
}

export function cmType(version: CmVersion, kind: CmKind): string {
  return `https://didcomm.org/coordinate-mediation/${version}/${NAMES[version][kind]}`
}

/** The version and kind of a coordinate-mediation message type, or null for any other type. */
export function parseCmType(type: string): { version: CmVersion; kind: CmKind } | null {
  const m = /^https:\/\/didcomm\.org\/coordinate-mediation\/(2\.0|3\.0)\/([a-z-]+)$/.exec(type)
  if (!m) return null
  const version = m[1] as CmVersion
  const kind = (Object.entries(NAMES[version]).find(([, n]) => n === m[2])?.[0] ?? null) as CmKind | null
  return kind ? { version, kind } : null
}

export type UpdateAction = 'add' | 'remove'
export interface RecipientUpdate {
  recipient_did: string
  action: UpdateAction
}
export type UpdateResult = 'success' | 'no_change' | 'client_error' | 'server_error'

export function mediateRequest(version: CmVersion): Message {
  return createMessage({ type: cmType(version, 'mediate-request') })
}

export function mediateGrant(request: Message, routingDid: string): Message {
  const version = versionOf(request)
  return createMessage({
    type: cmType(version, 'mediate-grant'),
    thid: request.id,
    body: { routing_did: version === '2.0' ? routingDid : [routingDid] },
  })
}

export function mediateDeny(request: Message): Message {
  return createMessage({ type: cmType(versionOf(request), 'mediate-deny'), thid: request.id })
}

/** The routing DID a grant names, in either version's shape. */
export function routingDidOf(grant: Message): string {
  const r = grant.body?.routing_did
  const did = Array.isArray(r) ? r[0] : r
  if (typeof did !== 'string' || did === '') throw err.malformed('mediate-grant without routing_did')
  return did
}

export function recipientUpdate(version: CmVersion, updates: RecipientUpdate[]): Message {
  return createMessage({ type: cmType(version, 'update'), body: { updates } })
}

/** The updates of a keylist-update / recipient-update, checked. */
export function updatesOf(m: Message): RecipientUpdate[] {
  const u = m.body?.updates
  if (!Array.isArray(u)) throw err.malformed('update without updates')
  return u.map((x) => {
    const r = x as Partial<RecipientUpdate>
    if (!r || typeof r.recipient_did !== 'string' || r.recipient_did === '' || (r.action !== 'add' && r.action !== 'remove'))
      throw err.malformed('an update needs recipient_did and action add|remove')
    return { recipient_did: r.recipient_did, action: r.action }
  })
}

export function recipientUpdateResponse(request: Message, updated: (RecipientUpdate & { result: UpdateResult })[]): Message {
  // 3.0's spec says `updated`, Veramo reads `updates`: 3.0 answers carry both
  const body = versionOf(request) === '2.0' ? { updated } : { updated, updates: updated }
  return createMessage({ type: cmType(versionOf(request), 'update-response'), thid: request.id, body })
}

export function recipientQuery(version: CmVersion): Message {
  return createMessage({ type: cmType(version, 'query') })
}

export function recipientList(query: Message, dids: string[]): Message {
  const version = versionOf(query)
  const entries = dids.map((recipient_did) => ({ recipient_did }))
  return createMessage({
    type: cmType(version, 'list'),
    thid: query.id,
    body: version === '2.0' ? { keys: entries } : { dids: entries },
  })
}

/** The recipient DIDs of a keylist / recipient answer. */
export function recipientsOf(list: Message): string[] {
  const entries = list.body?.keys ?? list.body?.dids
  if (!Array.isArray(entries)) return []
  return entries.map((e) => (e as { recipient_did?: unknown }).recipient_did).filter((d): d is string => typeof d === 'string')
}

function versionOf(m: Message): CmVersion {
  const p = parseCmType(m.type)
  if (!p) throw err.malformed(`not a coordinate-mediation message: ${m.type}`)
  return p.version
}
