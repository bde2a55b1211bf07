export { ENCS, type Enc } from './cipher.js'
export { DIDCommError } from './errors.js'
export { ALG_ANON, ALG_AUTH, apvFor, type DecryptCompat, VERAMO_AUTHCRYPT } from './jwe.js'
export { generateAgreementKey, generateSigningKey, type Jwk, publicJwk } from './keys.js'
export { attachmentBytes, base64Attachment, contentHash, createMessage, jsonAttachment, linksAttachment } from './message.js'
export { createInvitation, invitationUrl, OOB_INVITATION_TYPE, parseInvitationUrl } from './oob.js'
export {
  type Attachment,
  endpointOf,
  FORWARD_TYPE,
  forwardPayload,
  type Message,
  type PackEncryptedOptions,
  type PackEncryptedResult,
  type PackSignedOptions,
  packEncrypted,
  packPlaintext,
  packSigned,
  signingKidFor,
  TYP_PLAIN,
  type UnpackMetadata,
  type UnpackOptions,
  unpack,
  wrapForward,
} from './pack.js'
