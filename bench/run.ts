import { bleBench } from './ble.js'
import { didcommBench } from './didcomm.js'
import { efficiencyBench } from './efficiency.js'
import { filesBench } from './files.js'
import { fountainBench } from './fountain.js'
import { hermesBench } from './hermes.js'
import { mediatorBench } from './mediator.js'
import { mqttBench } from './mqtt.js'
import { nfcBench } from './nfc.js'
import { qrBench } from './qr.js'
import { reassemblyBench } from './reassembly.js'
import { storesBench } from './stores.js'

const benches: Record<string, () => Promise<void>> = {
  reassembly: reassemblyBench,
  efficiency: efficiencyBench,
  fountain: fountainBench,
  mqtt: mqttBench,
  files: filesBench,
  didcomm: didcommBench,
  qr: qrBench,
  nfc: nfcBench,
  ble: bleBench,
  stores: storesBench,
  mediator: mediatorBench,
  hermes: hermesBench,
}

const only = process.argv.slice(2)
for (const [name, run] of Object.entries(benches)) {
  if (only.length === 0 || only.includes(name)) await run()
}
