import { b64u } from '../didcomm/b64u.js'
import { createMessage } from '../didcomm/message.js'
import type { Attachment, Message } from '../didcomm/pack.js'
import { decodeBase64Text } from './routing.js'

/** Message Pickup 3.0. */
const BASE = 'https://didcomm.org/messagepickup/3.0/'
export const PICKUP = {
  statusRequest: `${BASE}status-request`,
  status: `${BASE}status`,
  deliveryRequest: `${BASE}delivery-request`,
  delivery: `${BASE}delivery`,
  messagesReceived: `${BASE}messages-received`,
  liveDeliveryChange: `${BASE}live-delivery-change`,
} as const

export function isPickup(type: string): boolean {
  return type.startsWith(BASE)
}

export function statusRequest(o: { recipientDid?: string } = {}): Message {
  return createMessage({ type: PICKUP.statusRequest, body: o.recipientDid ? { recipient_did: o.recipientDid } : {} })
}

/** The recipient a status-/delivery-request narrows to: `recipient_did` (3.0) or `recipient_key` (what Veramo 7 sends). */
export function recipientFilterOf(m: Message): string | undefined {
  const f = m.body?.recipient_did ?? m.body?.recipient_key
  return typeof f === 'string' && f !== '' ? f : undefined
}

export interface PickupStatus {
  message_count: number
  total_bytes?: number
  longest_waited_seconds?: number
  newest_received_time?: number
  oldest_received_time?: number
  live_delivery?: boolean
  recipient_did?: string
}

export function status(s: PickupStatus, o: { thid?: string } = {}): Message {
  return createMessage({ type: PICKUP.status, thid: o.thid, body: { ...s } })
}

export function deliveryRequest(o: { limit: number; recipientDid?: string }): Message {
  return createMessage({
    type: PICKUP.deliveryRequest,
    body: { limit: o.limit, ...(o.recipientDid ? { recipient_did: o.recipientDid } : {}) },
  })
}

/** The `limit` a delivery-request asks for, bounded; Identus sends 10, Veramo 2. */
export function limitOf(m: Message, max: number): number {
  const l = m.body?.limit
  return typeof l === 'number' && Number.isInteger(l) && l > 0 ? Math.min(l, max) : max
}

/**
 * A delivery of queued envelopes, each one an attachment `{id, data: {json}}` — what the Identus
 * SDK and Veramo read (an envelope that is not JSON goes as base64).
 */
export function delivery(
  messages: { id: string; envelope: string }[],
  o: { thid?: string; recipientDid?: string } = {},
): Message {
  const attachments: Attachment[] = messages.map(({ id, envelope }) => {
    let json: unknown
    try {
      json = JSON.parse(envelope)
    } catch {
      return {
        id,
        media_type: 'application/didcomm-encrypted+json',
        data: { base64: b64u.encode(new TextEncoder().encode(envelope)) },
      }
    }
    return { id, media_type: 'application/didcomm-encrypted+json', data: { json } }
  })
  return createMessage({
    type: PICKUP.delivery,
    thid: o.thid,
    body: o.recipientDid ? { recipient_did: o.recipientDid } : {},
    attachments,
  })
}

/** The envelopes of a delivery: json (object or string), base64 or base64url attachments; ids kept. */
export function envelopesOf(m: Message): { id: string; envelope: string }[] {
  return (m.attachments ?? []).flatMap((a, i) => {
    const id = a.id ?? String(i)
    if (typeof a.data.json === 'string') return [{ id, envelope: a.data.json }]
    if (a.data.json && typeof a.data.json === 'object') return [{ id, envelope: JSON.stringify(a.data.json) }]
    if (typeof a.data.base64 === 'string') return [{ id, envelope: decodeBase64Text(a.data.base64) }]
    return []
  })
}

export function messagesReceived(ids: string[]): Message {
  return createMessage({ type: PICKUP.messagesReceived, body: { message_id_list: ids } })
}

export function receivedIdsOf(m: Message): string[] {
  const l = m.body?.message_id_list
  return Array.isArray(l) ? l.filter((x): x is string => typeof x === 'string') : []
}

export function liveDeliveryChange(live: boolean): Message {
  return createMessage({ type: PICKUP.liveDeliveryChange, body: { live_delivery: live } })
}
