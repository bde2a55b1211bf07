// A producer for the durability tests: enqueues `count` messages, `inFlight` at a time, into the
// store at URI and prints each id on stdout once its enqueue resolved. The test kills it mid-stream.
import { openStore } from '../../stores/index.js'
import { messageData, RECIPIENT, receivedAt } from '../support/store-messages.js'

const [uri, countArg, inFlightArg, prefix = 'm'] = process.argv.slice(2)
const count = Number(countArg)
const inFlight = Number(inFlightArg ?? 32)
const store = await openStore(uri as string)
let next = 0

async function worker(): Promise<void> {
  while (next < count) {
    const i = next++
    const id = `${prefix}-${i}`
    await store.enqueue({ id, recipient: RECIPIENT, data: messageData(i), receivedAt: receivedAt(i) })
    process.stdout.write(`${id}\n`)
  }
}

await Promise.all(Array.from({ length: inFlight }, worker))
await store.close()
