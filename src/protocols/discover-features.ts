import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'

/** Discover Features 2.0: queries name feature types and a match (`*` at the end = any suffix). */
export const DISCOVER_QUERIES = 'https://didcomm.org/discover-features/2.0/queries'
export const DISCOVER_DISCLOSE = 'https://didcomm.org/discover-features/2.0/disclose'

/** protocol, goal-code and header are the spec's; transport (ids are URI schemes) is ours. */
export type FeatureType = 'protocol' | 'goal-code' | 'header' | 'transport'

export interface Feature {
  'feature-type': FeatureType
  id: string
  roles?: string[]
}

export interface FeatureQuery {
  'feature-type': FeatureType
  match: string
}

export function discoverQueries(queries: FeatureQuery[]): Message {
  return createMessage({ type: DISCOVER_QUERIES, body: { queries } })
}

function matches(match: string, id: string): boolean {
  return match.endsWith('*') ? id.startsWith(match.slice(0, -1)) : match === id
}

/** The disclose answering `queries`: every feature of ours that one of its queries matches. */
export function discoverDisclose(queries: Message, features: readonly Feature[]): Message {
  const asked = Array.isArray(queries.body?.queries) ? (queries.body.queries as Partial<FeatureQuery>[]) : []
  const disclosures = features.filter((f) =>
    asked.some((q) => q?.['feature-type'] === f['feature-type'] && typeof q.match === 'string' && matches(q.match, f.id)),
  )
  return createMessage({ type: DISCOVER_DISCLOSE, thid: queries.id, body: { disclosures } })
}

/** The features a disclose names (malformed entries dropped). */
export function disclosedFeatures(disclose: Message): Feature[] {
  const d = disclose.body?.disclosures
  if (!Array.isArray(d)) return []
  return d.filter((f): f is Feature => !!f && typeof f.id === 'string' && typeof f['feature-type'] === 'string')
}

/** A protocol's PIURI from a message type: https://didcomm.org/trust-ping/2.0/ping → …/trust-ping/2.0 */
export function protocolOf(type: string): string {
  return type.slice(0, type.lastIndexOf('/'))
}
