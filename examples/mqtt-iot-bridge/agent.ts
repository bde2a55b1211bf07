/**
 * The agent side of the bridge: it reads the device's messages from its inbox and answers every
 * third reading with a command.
 */
import { MqttNode, MqttTransport } from '../../adapters/mqtt/index.js'

export async function runAgent(broker: string, agentRk: string, readings: number, log: (line: string) => void): Promise<void> {
  const node = await MqttNode.connect(broker, { clientId: `agent-${agentRk}` })
  const me = new MqttTransport(await node.openInbox(agentRk))
  let n = 0
  for await (const m of me.receive()) {
    const msg = JSON.parse(new TextDecoder().decode(m.data)) as { id: string; body: { celsius: number } }
    log(`agent: ${msg.id} ${msg.body.celsius} °C from ${m.from} (${m.mediaType})`)
    if (++n % 3 === 0 && m.from) {
      const command = { id: `cmd-${n}`, type: 'https://example.org/iot/1.0/set-interval', body: { intervalMs: 100 } }
      await me.send(m.from, JSON.stringify(command))
      log(`agent: sent ${command.id} to ${m.from}`)
    }
    if (n >= readings) break
  }
  await me.close()
  await node.close()
}
