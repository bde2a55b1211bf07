/**
 * The raw baseline of the file bench, in its own process: subscribes to one topic with mqtt.js
 * and appends each publish's payload to a file. argv: brokerUrl size outFile. Prints "ready", then
 * "raw N" each time N = size bytes were written.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { connectMqtt } from '../adapters/mqtt/index.js'

const [url, sizeArg, outFile] = process.argv.slice(2) as [string, string, string]
const size = Number(sizeArg)
const { client } = await connectMqtt(url, { clientId: 'bench-files-raw' })
await client.subscribeAsync('bench/files-raw', { qos: 1 })
let fd = openSync(outFile, 'w')
let received = 0
client.on('message', (_topic, payload) => {
  writeSync(fd, payload)
  received += payload.length
  if (received >= size) {
    closeSync(fd)
    fd = openSync(outFile, 'w')
    process.stdout.write(`raw ${received}\n`)
    received = 0
  }
})
process.on('SIGTERM', () => process.exit(0))
process.stdout.write('ready\n')
