export {
  Agent,
  type AgentIdentity,
  type AgentMessage,
  type AgentPolicy,
  type AgentSendResult,
  createAgent,
  type EndpointTransport,
  NoTransportError,
  receivedFiles,
} from './agent.js'
export { Bridge, bridgedTransport } from './bridge.js'
export * from './did/document.js'
export { createDidKey, didKeyDocument, didKeyResolver } from './did/key.js'
export { createPeerDid, didPeer2Document, didPeerResolver, type PeerIdentity } from './did/peer.js'
export * from './didcomm/index.js'
export * from './transport.js'
export * from './wire/index.js'
