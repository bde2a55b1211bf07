export { answerBlobAccess, BLOB_DEFAULTS, type BlobAccessLimits, type MediatorBlobs } from './blob-access.js'
export {
  type BlobInfo,
  type BlobLimits,
  BlobNotFoundError,
  BlobOffsetError,
  BlobQuotaError,
  type BlobStore,
  type NewBlob,
} from './blob-store.js'
export { type BlobGrant, BlobTokenError, BlobTokens } from './blob-tokens.js'
export { LiveSessions } from './live.js'
export { createMediator, type Mediator, type MediatorLimits, type MediatorOptions, mediatorIdentity } from './mediator.js'
export { MemoryBlobStore } from './memory-blob-store.js'
export { MemoryMessageStore } from './memory-store.js'
export { type MediationGrant, type MessageStore, type QueuedMessage, type QueueLimits, QuotaExceededError } from './store.js'
