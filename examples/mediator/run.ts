/**
 * npx tsx examples/mediator/run.ts
 * A mediator on HTTP, WebSocket and MQTT at once (embedded broker, memory store). A sensor on MQTT
 * picks up live over MQTT; a phone that is offline most of the time has a message waiting when it
 * comes back, picks it up over HTTP, and answers the sensor — the answer reaches it on MQTT.
 */
import { webEndpointTransport } from '../../adapters/http/index.js'
import { makeMqttEndpoint, mqttEndpointTransport, newInboxKey, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { createRoutedPeerDid, useMediator } from '../../src/agent/mediation.js'
import { createAgent, createMessage, didPeerResolver } from '../../src/index.js'
import { createMediator, MemoryMessageStore, mediatorIdentity } from '../../src/mediator/index.js'

const BASIC = 'https://didcomm.org/basicmessage/2.0/message'
const say = (content: string) => createMessage({ type: BASIC, body: { content } })

const broker = await startEmbeddedBroker()
const web = await webEndpointTransport({ listen: {} })
const server = web.server as NonNullable<typeof web.server>
const mediatorMqtt = makeMqttEndpoint(broker.url, newInboxKey())
const identity = mediatorIdentity([server.url, server.wsUrl, mediatorMqtt])
const store = new MemoryMessageStore()
const mediator = createMediator({
  identity,
  store,
  resolver: didPeerResolver,
  transports: [web, await mqttEndpointTransport({ endpoint: mediatorMqtt, clientId: `mediator-${process.pid}` })],
})
console.log(`mediator: ${server.url} ${server.wsUrl} ${mediatorMqtt}`)

// the sensor: MQTT only, its DID routed through the mediator, live pickup over MQTT
const sensor = createAgent({
  identity: createRoutedPeerDid(mediator.did),
  resolver: didPeerResolver,
  transports: [
    await mqttEndpointTransport({ endpoint: makeMqttEndpoint(broker.url, newInboxKey()), clientId: `sensor-${process.pid}` }),
  ],
})
const sensorLink = await useMediator(sensor, mediator.did)
await sensorLink.live({ via: mediatorMqtt })
console.log('sensor: mediated, live over MQTT')

// the phone registers, then goes offline
const phoneIdentity = createRoutedPeerDid(mediator.did)
const phoneWeb = await webEndpointTransport()
const phone = createAgent({ identity: phoneIdentity, resolver: didPeerResolver, transports: [phoneWeb] })
const phoneLink = await useMediator(phone, mediator.did)
console.log('phone: mediated over HTTP, now offline')

await sensor.send(say('temperature 21.5 C'), { to: phone.did })
console.log(`mediator: ${(await store.count(phone.did)).messages} message waiting for the phone`)

// the phone is back: polls once, answers
const phoneInbox = phone.messages()[Symbol.asyncIterator]()
console.log(`phone: picked up ${await phoneLink.pickup()}`)
const reading = (await phoneInbox.next()).value
console.log(`phone: "${reading?.message.body?.content}" from the sensor`)
const sensorInbox = sensor.messages()[Symbol.asyncIterator]()
await phone.send(say('thanks'), { to: sensor.did })
const answer = (await sensorInbox.next()).value
console.log(`sensor: "${answer?.message.body?.content}" from the phone, live over MQTT`)
console.log(`done: queue empty = ${(await store.count(phone.did)).messages === 0}`)

await sensor.close()
await phone.close()
await mediator.close()
await broker.close()
process.exit(0)
