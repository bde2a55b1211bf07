import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2))
// Native bindings (pcsclite under nfc-pcsc) can hold the event loop after they are closed: once the
// command is done, give output half a second to drain, then leave. (unref: never delays a clean exit.)
setTimeout(() => process.exit(), 500).unref()
