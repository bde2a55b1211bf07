import { randomUUID } from '../random-uuid.js'
import { b64u } from './b64u.js'
import { err } from './errors.js'
import type { Attachment, Message } from './pack.js'

export const OOB_INVITATION_TYPE = 'https://didcomm.org/out-of-band/2.0/invitation'

/**
 * DIDComm Out-of-Band 2.0 invitations: a plaintext message from the inviter's DID (whose document
 * names the endpoints to answer on), carried in a URL's `_oob` parameter, a QR code or an NFC tag.
 */
export function createInvitation(o: {
  from: string
  goalCode?: string
  goal?: string
  accept?: string[]
  attachments?: Attachment[]
}): Message {
  return {
    id: randomUUID(),
    type: OOB_INVITATION_TYPE,
    from: o.from,
    body: {
      ...(o.goalCode ? { goal_code: o.goalCode } : {}),
      ...(o.goal ? { goal: o.goal } : {}),
      accept: o.accept ?? ['didcomm/v2'],
    },
    ...(o.attachments ? { attachments: o.attachments } : {}),
  }
}

export function invitationUrl(invitation: Message, base = 'https://didcomm.org/'): string {
  const u = new URL(base)
  u.searchParams.set('_oob', b64u.encodeJson(invitation))
  return u.toString()
}

/** The invitation in a URL (…?_oob=…), checked to be an OOB 2.0 invitation with a from. */
export function parseInvitationUrl(url: string): Message {
  let oob: string | null
  try {
    oob = new URL(url).searchParams.get('_oob')
  } catch {
    throw err.malformed('not a URL')
  }
  if (!oob) throw err.malformed('URL without an _oob parameter')
  let m: Message
  try {
    m = JSON.parse(new TextDecoder().decode(b64u.decode(oob))) as Message
  } catch {
    throw err.malformed('_oob is not base64url JSON')
  }
  if (m?.type !== OOB_INVITATION_TYPE) throw err.malformed(`not an out-of-band 2.0 invitation: ${String(m?.type)}`)
  if (typeof m.id !== 'string' || typeof m.from !== 'string' || !m.from.startsWith('did:'))
    throw err.malformed('invitation without id or from DID')
  return m
}
