export { type EmbeddedBroker, startEmbeddedBroker } from './broker.js'
export {
  BrokerRefusedError,
  BrokerUnreachableError,
  type ConnectedClient,
  connectMqtt,
  type MqttConnectOptions,
  SubscriptionRefusedError,
  TlsError,
} from './client.js'
export { mqttEndpointTransport } from './endpoint-transport.js'
export { type BareEnvelope, MqttInbox, MqttNode, type MqttNodeOptions, MqttPeerLink } from './node.js'
export { instanceId, newInboxKey, parseTopic, recipientKey, topics } from './topics.js'
export { type MqttReceived, type MqttSendOptions, MqttTransport, type MqttTransportOptions } from './transport.js'
export { InvalidEndpointError, MQTT_SCHEMES, type MqttEndpoint, makeMqttEndpoint, parseMqttEndpoint } from './uri.js'
