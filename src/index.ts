export { NoAnswerError } from './agent/answers.js'
export { type BackoffOptions, backoffDelay } from './agent/backoff.js'
export {
  createRoutedPeerDid,
  MediationClient,
  MediationDeniedError,
  type MediationOptions,
  useMediator,
} from './agent/mediation.js'
export { SeenIds, type SeenIdsOptions } from './agent/seen.js'
export {
  Agent,
  type AgentExtras,
  type AgentIdentity,
  type AgentMessage,
  type AgentPolicy,
  type AgentSendOptions,
  type AgentSendResult,
  createAgent,
  type EndpointTransport,
  type IncomingEnvelope,
  NoEndpointError,
  NoTransportError,
  type ReplyOnLink,
  receivedFiles,
  SendFailedError,
} from './agent.js'
export { Bridge, bridgedTransport } from './bridge.js'
export * from './did/document.js'
export { createDidKey, didKeyDocument, didKeyResolver } from './did/key.js'
export { createPeerDid, didPeer2Document, didPeerResolver, type PeerIdentity } from './did/peer.js'
export * from './didcomm/index.js'
export * from './files/index.js'
export { LinkInbox, oneLinkEndpointTransport } from './link-endpoint.js'
export { ProblemReportError, RefusedMessageError } from './protocols/report-problem.js'
export { ReceiveQuota, ReceiveQuotaError, type ReceiveQuotaOptions } from './receive-quota.js'
export * from './transport.js'
export * from './wire/index.js'
