import { sha256 } from '../../src/wire/digest.js'

/**
 * Topic layout. No DIDs in topic names: an inbox is named by its recipient key
 * rk = base64url(SHA-256(kid)) cut to 22 characters (128 bits). Each client instance has an id
 * (iid) so a peer can answer the one instance that is talking to it.
 *
 *   didcomm/v2/{rk}/in                          bare DIDComm envelopes, one per publish
 *   didcomm/v2/{rk}/in/{fromRk}/{fromIid}       frames for whichever consumer of the inbox takes them
 *   didcomm/v2/{rk}/at/{iid}/{fromRk}/{fromIid} frames for one instance: answers, and the rest of a
 *                                               transfer once an instance has taken it
 */
export const TOPIC_ROOT = 'didcomm/v2'
const RK_CHARS = 22

export async function recipientKey(kid: string): Promise<string> {
  return base64url(await sha256(new TextEncoder().encode(kid))).slice(0, RK_CHARS)
}

/**
 * A fresh random inbox name, for DIDs that carry their own endpoint (did:peer:2): there the kid
 * contains the service, so the service cannot contain a hash of the kid.
 */
export function newInboxKey(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)))
}

export async function instanceId(clientId: string): Promise<string> {
  return base64url(await sha256(new TextEncoder().encode(`iid:${clientId}`))).slice(0, 11)
}

export function isTopicSafe(s: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(s)
}

export const topics = {
  inbox: (rk: string) => `${TOPIC_ROOT}/${rk}/in`,
  group: (rk: string, fromRk: string, fromIid: string) => `${TOPIC_ROOT}/${rk}/in/${fromRk}/${fromIid}`,
  instance: (rk: string, iid: string, fromRk: string, fromIid: string) => `${TOPIC_ROOT}/${rk}/at/${iid}/${fromRk}/${fromIid}`,
  subscribeInbox: (rk: string, group?: string) => `${group ? `$share/${group}/` : ''}${TOPIC_ROOT}/${rk}/in/#`,
  subscribeInstance: (rk: string, iid: string) => `${TOPIC_ROOT}/${rk}/at/${iid}/#`,
}

export type ParsedTopic =
  | { kind: 'bare'; rk: string }
  | { kind: 'frame'; rk: string; fromRk: string; fromIid: string; pinned: boolean }

export function parseTopic(topic: string): ParsedTopic | undefined {
  const p = topic.split('/')
  if (p[0] !== 'didcomm' || p[1] !== 'v2' || !p[2]) return undefined
  const rk = p[2]
  if (p[3] === 'in' && p.length === 4) return { kind: 'bare', rk }
  if (p[3] === 'in' && p.length === 6)
    return { kind: 'frame', rk, fromRk: p[4] as string, fromIid: p[5] as string, pinned: false }
  if (p[3] === 'at' && p.length === 7) return { kind: 'frame', rk, fromRk: p[5] as string, fromIid: p[6] as string, pinned: true }
  return undefined
}

export function base64url(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
