/**
 * A constrained device: it publishes sensor readings as DIDComm plaintext messages to the agent's
 * inbox and obeys the commands the agent sends back. argv: brokerUrl deviceRk agentRk readings
 */
import { MqttNode, MqttTransport } from '../../adapters/mqtt/index.js'

const [broker, deviceRk, agentRk, count] = process.argv.slice(2) as [string, string, string, string]
const node = await MqttNode.connect(broker, { clientId: `device-${deviceRk}` })
const me = new MqttTransport(await node.openInbox(deviceRk), { transferTimeoutMs: 10_000 })
let intervalMs = 200

void (async () => {
  for await (const m of me.receive()) {
    const cmd = JSON.parse(new TextDecoder().decode(m.data)) as { type: string; body: { intervalMs: number } }
    if (cmd.type === 'https://example.org/iot/1.0/set-interval') intervalMs = cmd.body.intervalMs
  }
})()

for (let i = 1; i <= Number(count); i++) {
  const reading = {
    id: `reading-${i}`,
    type: 'https://example.org/iot/1.0/reading',
    created_time: Math.floor(Date.now() / 1000),
    body: { sensor: 'temp-1', celsius: 20 + (i % 5) * 0.5 },
  }
  await me.send(agentRk, JSON.stringify(reading), { mediaType: 'application/didcomm-plain+json' })
  await new Promise((r) => setTimeout(r, intervalMs))
}
await me.close()
await node.close()
