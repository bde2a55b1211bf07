import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'

/** Trust Ping 2.0: "are you there?" — answered with a ping-response in the same thread. */
export const TRUST_PING = 'https://didcomm.org/trust-ping/2.0/ping'
export const TRUST_PING_RESPONSE = 'https://didcomm.org/trust-ping/2.0/ping-response'

export function trustPing(o: { responseRequested?: boolean } = {}): Message {
  return createMessage({ type: TRUST_PING, body: { response_requested: o.responseRequested ?? true } })
}

/** The response a ping asks for, or null when it asked for none. */
export function trustPingResponse(ping: Message): Message | null {
  if (ping.body?.response_requested === false) return null
  return createMessage({ type: TRUST_PING_RESPONSE, thid: ping.id })
}
