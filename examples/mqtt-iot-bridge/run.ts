/**
 * npx tsx examples/mqtt-iot-bridge/run.ts [--broker URL] [--readings N]
 * Without --broker it starts the embedded broker; the device runs as its own process.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { runAgent } from './agent.js'

const args = process.argv.slice(2)
const opt = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const readings = Number(opt('--readings') ?? 6)
const embedded = opt('--broker') ? undefined : await startEmbeddedBroker()
const broker = opt('--broker') ?? (embedded?.url as string)
console.log(`broker: ${broker}`)

const agentRk = `agent${process.pid}`
const deviceRk = `device${process.pid}`
const agent = runAgent(broker, agentRk, readings, (l) => console.log(l))
const device = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./device.ts', import.meta.url)), broker, deviceRk, agentRk, String(readings)],
  {
    stdio: 'inherit',
  },
)
const deviceDone = new Promise<number | null>((r) => device.once('exit', r))
await agent
const code = await deviceDone
await embedded?.close()
console.log(`done: ${readings} readings through ${broker}, device exited with ${code}`)
process.exit(code ?? 1)
