export { LiveSessions } from './live.js'
export { createMediator, type Mediator, type MediatorLimits, type MediatorOptions, mediatorIdentity } from './mediator.js'
export { MemoryMessageStore } from './memory-store.js'
export { type MediationGrant, type MessageStore, type QueuedMessage, type QueueLimits, QuotaExceededError } from './store.js'
