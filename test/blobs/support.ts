import { blobRoutes } from '../../adapters/http/blob-routes.js'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { createAgent, createPeerDid, didPeerResolver } from '../../src/index.js'
import type { BlobAccessLimits } from '../../src/mediator/blob-access.js'
import type { BlobStore } from '../../src/mediator/blob-store.js'
import { BlobTokens } from '../../src/mediator/blob-tokens.js'
import { createMediator, MemoryMessageStore, mediatorIdentity } from '../../src/mediator/index.js'
import { MemoryBlobStore } from '../../src/mediator/memory-blob-store.js'

/** A mediator in this process on loopback HTTP, with blobs in memory (or the store given). */
export async function blobMediator(o: { limits?: BlobAccessLimits; blobs?: BlobStore } = {}) {
  const blobs = o.blobs ?? new MemoryBlobStore()
  let tokens: BlobTokens | undefined
  const refused: { status: number; code: string }[] = []
  const routes = blobRoutes({ store: blobs, tokens: () => tokens, limits: o.limits, onRefused: (r) => refused.push(r) })
  const web = await webEndpointTransport({ listen: { routes } })
  const server = web.server as NonNullable<typeof web.server>
  const identity = mediatorIdentity([server.url])
  tokens = BlobTokens.fromSecrets(identity.secrets)
  const errors: unknown[] = []
  const mediator = createMediator({
    identity,
    store: new MemoryMessageStore(),
    resolver: didPeerResolver,
    transports: [web],
    blobs: { store: blobs, tokens, urlOf: (h) => `${server.url}blobs/${h}`, limits: o.limits },
    onError: (e) => errors.push(e),
  })
  return { mediator, did: identity.did, url: server.url, blobs, tokens, refused, errors, close: () => mediator.close() }
}

/** A recipient mediated by `mediatorDid` (granted, its DID registered), offline otherwise. */
export async function mediatedRecipient(mediatorDid: string) {
  const identity = createRoutedPeerDid(mediatorDid)
  const agent = createAgent({ identity, resolver: didPeerResolver, transports: [await webEndpointTransport()] })
  await useMediator(agent, mediatorDid)
  return agent
}

/** An agent with no endpoint (a sender). */
export async function plainSender() {
  return createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [await webEndpointTransport()] })
}
