import type { EndpointTransport } from '../../src/agent.js'
import { oneLinkEndpointTransport } from '../../src/link-endpoint.js'
import type { Link } from '../../src/transport.js'
import { createTransport } from '../../src/wire/create-transport.js'
import type { TransportOptions } from '../../src/wire/options.js'

export const NFC_SCHEMES = ['nfc:'] as const

/**
 * NFC for an Agent, on either side of a tap: the reader's link (PcscReader.link()) or the phone's
 * CardApplet. An `nfc:` endpoint means "whoever is in the field": the reader sends to the phone
 * tapped on it (waiting for the tap, up to the transfer time-out), the phone to the reader it is
 * tapped on; what arrives is answered over the same tap when it asks for return_route.
 */
export function nfcEndpointTransport(link: Link, options?: TransportOptions): EndpointTransport {
  return oneLinkEndpointTransport(createTransport(link, options), NFC_SCHEMES)
}
