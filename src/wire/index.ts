export { bareEnvelopeMediaType } from './bare.js'
export { type CarrierTransport, createTransport, type TransportStats } from './create-transport.js'
export { MEDIA_ENCRYPTED, MEDIA_PLAIN, MEDIA_SIGNED, sniffMediaType } from './media.js'
export type { TransportOptions } from './options.js'
