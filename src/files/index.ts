export * from './blob-chunk.js'
export { type EncryptedShare, isEncryptedShare, multihashOfHex, parseShare, shareMessage } from './share.js'
export * from './stream-aead.js'
