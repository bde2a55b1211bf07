/**
 * What an app's screen calls: find the peripheral of an invitation's `ble://` endpoint, connect,
 * turn the Link into a Transport (createTransport: the reliable session, chunking, resumption)
 * and hand it to an Agent, which authcrypts to the peer's DID and answers on the same link.
 * In the app: `import 'react-native-get-random-values'` and a TextDecoder first (see README).
 */
import {
  type Agent,
  type AgentIdentity,
  createAgent,
  createMessage,
  createPeerDid,
  createTransport,
  didPeerResolver,
  oneLinkEndpointTransport,
} from 'didcomm-carrier'
import type { BleManager } from 'react-native-ble-plx'
import { type BlePlx, BlePlxLink, findPeripheral } from './ble-plx-link.js'

export interface Chat {
  agent: Agent
  link: BlePlxLink
  say(text: string): Promise<void>
  close(): Promise<void>
}

/**
 * `endpoint` and `peerDid` come from the invitation (`ble://8129adad-…?token=k1` and the DID of
 * `carrier listen --via 'ble://…?token=k1'` on the other side). `manager` is the app's one
 * `new BleManager()`, after the user granted the Bluetooth permissions.
 */
export async function openChat(
  manager: BlePlx & Pick<BleManager, 'startDeviceScan' | 'stopDeviceScan'>,
  endpoint: string,
  peerDid: string,
  identity: AgentIdentity = createPeerDid(),
): Promise<Chat> {
  const device = await findPeripheral(manager, endpoint, AbortSignal.timeout(30_000))
  const link = await BlePlxLink.connect(manager, device.id)
  const transport = createTransport(link)
  // messages to a ble:// DID go down this link; what arrives on it can be answered on it
  const agent = createAgent({
    identity,
    resolver: didPeerResolver,
    transports: [oneLinkEndpointTransport(transport, ['ble:'])],
  })
  return {
    agent,
    link,
    async say(text) {
      await agent.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: text } }), {
        to: peerDid,
      })
    },
    close: () => agent.close(),
  }
}

/** A screen's loop: each authenticated basic message from the peer, as text. */
export async function* heard(chat: Chat): AsyncGenerator<string> {
  for await (const { message, metadata } of chat.agent.messages())
    if (metadata.authenticated && typeof message.body?.content === 'string') yield message.body.content
}
