// first: it must run before any other module allocates
import './young-generation.js'
import { main } from './main.js'

// A command that waits for something nothing can deliver any more (no socket, no timer left) would
// end with Node's silent exit 13 (unsettled top-level await): say so instead.
let settled = false
process.once('exit', (code) => {
  if (!settled && code === 13) {
    process.stderr.write('carrier: the command stopped: it was waiting for something that can no longer arrive\n')
    process.exitCode = 1
  }
})
process.exitCode = await main(process.argv.slice(2))
settled = true
// Native bindings (pcsclite under nfc-pcsc) can hold the event loop after they are closed: once the
// command is done, give output half a second to drain, then leave. (unref: never delays a clean exit.)
setTimeout(() => process.exit(), 500).unref()
