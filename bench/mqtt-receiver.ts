/**
 * The receiving end of the MQTT goodput bench, in its own process as it would be in real use.
 * argv: brokerUrl size. Prints "ready", then one line per 8 MB message received (both ways).
 */
import { MqttNode, MqttTransport } from '../adapters/mqtt/index.js'

const [url, sizeArg] = process.argv.slice(2) as [string, string]
const size = Number(sizeArg)
const bob = await MqttNode.connect(url, { clientId: 'bench-bob', protocolVersion: 5 })
const transport = new MqttTransport(await bob.openInbox('benchBob'))
await bob.client.subscribeAsync('bench/raw', { qos: 1 })
let out = new Uint8Array(size)
let received = 0
bob.client.on('message', (topic, payload) => {
  if (topic !== 'bench/raw') return
  out.set(payload, received)
  received += payload.length
  if (received >= size) {
    process.stdout.write(`raw ${received}\n`)
    received = 0
    out = new Uint8Array(size)
  }
})
process.on('SIGINT', () => process.exit(0))
process.stdout.write('ready\n')
for await (const m of transport.receive()) process.stdout.write(`carrier ${m.data.length}\n`)
