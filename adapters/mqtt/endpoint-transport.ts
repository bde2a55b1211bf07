import type { EndpointTransport, IncomingEnvelope } from '../../src/agent.js'
import type { SendOptions, SendReport } from '../../src/transport.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
import { MqttNode, type MqttNodeOptions } from './node.js'
import { newInboxKey } from './topics.js'
import { MqttTransport, type MqttTransportOptions } from './transport.js'
import { MQTT_SCHEMES, parseMqttEndpoint } from './uri.js'

/**
 * MQTT for an Agent: listens on its inbox at its home broker, and reaches any mqtt(s)/ws(s)
 * endpoint — connecting once to each other broker it is asked to send to, with the same inbox
 * there for the answers.
 */
export async function mqttEndpointTransport(o: {
  /**
   * Our inbox endpoint (broker + topic), as in our DID document. Without one the agent only
   * sends: each broker it sends to gets a fresh inbox of ours for the end-to-end acks.
   */
  endpoint?: string
  clientId?: string
  options?: MqttNodeOptions
  /** Share our inbox with other instances (MQTT shared subscription $share/group/…). */
  group?: string
  /** Options of the core transports (time-outs, limits), e.g. transferTimeoutMs. */
  transport?: MqttTransportOptions
}): Promise<EndpointTransport> {
  const home = o.endpoint ? parseMqttEndpoint(o.endpoint) : undefined
  const ownInbox = home?.rk ?? newInboxKey()
  const nodes = new Map<string, Promise<{ node: MqttNode; transport: MqttTransport }>>()
  const incoming = new AsyncQueue<IncomingEnvelope>()
  const open = (broker: string) => {
    let p = nodes.get(broker)
    if (!p) {
      p = (async () => {
        const node = await MqttNode.connect(broker, {
          clientId: o.clientId ? `${o.clientId}@${broker}` : undefined,
          ...o.options,
        })
        const transport = new MqttTransport(
          await node.openInbox(ownInbox, broker === home?.broker && o.group ? { group: o.group } : {}),
          o.transport,
        )
        void (async () => {
          for await (const m of transport.receive()) {
            const from = m.from
            // return_route: an answer goes to the inbox the message came from, through this broker
            incoming.push(
              from ? { ...m, duplex: true, reply: (envelope, options) => transport.send(from, envelope, options) } : m,
            )
          }
        })()
        return { node, transport }
      })()
      nodes.set(broker, p)
    }
    return p
  }
  if (home) await open(home.broker)
  return {
    schemes: MQTT_SCHEMES,
    bytes: true,
    accepts(uri: string) {
      try {
        parseMqttEndpoint(uri)
        return true
      } catch {
        return false
      }
    },
    async send(uri: string, envelope: string | Uint8Array, options?: SendOptions): Promise<SendReport> {
      const target = parseMqttEndpoint(uri)
      const { transport } = await open(target.broker)
      return transport.send(target.rk, envelope, options)
    },
    incoming: () => incoming.iterate(),
    async close() {
      for (const p of nodes.values()) {
        const { node, transport } = await p
        await transport.close()
        await node.close()
      }
      incoming.close()
    },
  }
}
