import { CarrierError } from '../transport.js'

/** Every failure of pack/unpack is one of these, with a stable code. */
export class DIDCommError extends CarrierError {}

export const err = {
  malformed: (m: string) => new DIDCommError('ERR_DIDCOMM_MALFORMED', m),
  unsupported: (m: string) => new DIDCommError('ERR_DIDCOMM_UNSUPPORTED_ALGORITHM', m),
  noKey: (m: string) => new DIDCommError('ERR_DIDCOMM_NO_KEY', m),
  decrypt: (m: string) => new DIDCommError('ERR_DIDCOMM_DECRYPT', m),
  signature: (m: string) => new DIDCommError('ERR_DIDCOMM_SIGNATURE', m),
  senderMismatch: (m: string) => new DIDCommError('ERR_DIDCOMM_SENDER_MISMATCH', m),
  recipientMismatch: (m: string) => new DIDCommError('ERR_DIDCOMM_RECIPIENT_MISMATCH', m),
  header: (m: string) => new DIDCommError('ERR_DIDCOMM_HEADER', m),
  invalidKey: (m: string) => new DIDCommError('ERR_DIDCOMM_INVALID_KEY', m),
  expired: (m: string) => new DIDCommError('ERR_DIDCOMM_EXPIRED', m),
  didNotFound: (m: string) => new DIDCommError('ERR_DIDCOMM_DID_NOT_FOUND', m),
  policy: (m: string) => new DIDCommError('ERR_DIDCOMM_POLICY', m),
}
