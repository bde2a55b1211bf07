import {
  createAgent,
  type IDataStore,
  type IDataStoreORM,
  type IDIDManager,
  type IIdentifier,
  type IKeyManager,
  type IMessageHandler,
  type IResolver,
  type TAgent,
} from '@veramo/core'
import { DataStoreJson } from '@veramo/data-store-json'
import {
  CoordinateMediationV3RecipientMessageHandler,
  DIDComm,
  DIDCommHttpTransport,
  DIDCommMessageHandler,
  type IDIDComm,
  PickupRecipientMessageHandler,
  TrustPingMessageHandler,
} from '@veramo/did-comm'
import { DIDManager, MemoryDIDStore } from '@veramo/did-manager'
import { PeerDIDProvider, getResolver as peerResolver } from '@veramo/did-provider-peer'
import { DIDResolverPlugin } from '@veramo/did-resolver'
import { KeyManager, MemoryKeyStore, MemoryPrivateKeyStore } from '@veramo/key-manager'
import { KeyManagementSystem } from '@veramo/kms-local'
import { type AbstractMessageHandler, MessageHandler } from '@veramo/message-handler'
import { type DIDResolver, Resolver } from 'did-resolver'

/**
 * A Veramo 7 agent as people set one up for DIDComm v2, all in memory: keys (kms-local), DIDs
 * (did:peer via its own provider and resolver), DIDComm (pack, unpack, HTTP transport), a JSON
 * data store, and the message handlers of a mediation client (DIDComm, trust ping,
 * coordinate-mediation 3.0 recipient, pickup 3.0 recipient).
 *
 * Measured quirk: Veramo 7 converts its identifier's Ed25519 key to X25519 in place (in the DID
 * store) the first time it authcrypts, after which that identifier cannot sign a JWS
 * ("key_not_found: could not locate a suitable signing key"). Use a fresh identifier for JWS.
 */
export type VeramoAgent = TAgent<IDIDManager & IKeyManager & IResolver & IDIDComm & IMessageHandler & IDataStore & IDataStoreORM>

/**
 * `resolvers`: extra DID methods for the agent's resolver (e.g. `{ example: … }`), beside its own
 * did:peer. `messageHandlers`: more handlers (Veramo's public AbstractMessageHandler) after the stock ones.
 */
export function createVeramoAgent(
  o: { resolvers?: Record<string, DIDResolver>; messageHandlers?: AbstractMessageHandler[] } = {},
): VeramoAgent {
  const json = { notifyUpdate: async () => {} }
  return createAgent<IDIDManager & IKeyManager & IResolver & IDIDComm & IMessageHandler & IDataStore & IDataStoreORM>({
    plugins: [
      new KeyManager({ store: new MemoryKeyStore(), kms: { local: new KeyManagementSystem(new MemoryPrivateKeyStore()) } }),
      new DIDManager({
        store: new MemoryDIDStore(),
        defaultProvider: 'did:peer',
        providers: { 'did:peer': new PeerDIDProvider({ defaultKms: 'local' }) },
      }),
      new DIDResolverPlugin({ resolver: new Resolver({ ...peerResolver(), ...(o.resolvers ?? {}) }) }),
      new DataStoreJson(json),
      new DIDComm({ transports: [new DIDCommHttpTransport()] }),
      new MessageHandler({
        messageHandlers: [
          new DIDCommMessageHandler(),
          new TrustPingMessageHandler(),
          new CoordinateMediationV3RecipientMessageHandler(),
          new PickupRecipientMessageHandler(),
          ...(o.messageHandlers ?? []),
        ],
      }),
    ],
  }) as VeramoAgent
}

/** A did:peer:2 made by the agent (X25519 #key-1... as its provider orders them), optionally with an endpoint. */
export function createVeramoPeerDid(agent: VeramoAgent, serviceEndpoint?: string): Promise<IIdentifier> {
  return agent.didManagerCreate({
    provider: 'did:peer',
    options: {
      num_algo: 2,
      ...(serviceEndpoint ? { service: { id: '#didcomm-1', type: 'DIDCommMessaging', serviceEndpoint, description: '' } } : {}),
    },
  })
}
