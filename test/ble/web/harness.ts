// Browser code of the Web Bluetooth test page (bundled by esbuild in the test): the library's
// WebBluetoothLink under a real core Transport, driven from Node through window.harness.
import { CARRIER_PROFILE, WebBluetoothLink, type WebBluetoothOptions } from '../../../adapters/ble/web.js'
import { createTransport } from '../../../src/index.js'
import type { CarrierError, SendReport, Transport } from '../../../src/transport.js'

interface Harness {
  options: WebBluetoothOptions
  link?: WebBluetoothLink
  transport?: Transport
  states: string[]
  error?: { code: string; message: string }
  /** Keep a read of the notify characteristic pending (see the test: the emulation cannot notify). */
  pollReads(): void
  send(bytes: number[]): Promise<SendReport>
  call<T>(f: (link: WebBluetoothLink) => Promise<T>): Promise<T | { code: string; message: string }>
}

declare global {
  interface Window {
    harness: Harness
  }
}

const errorOf = (e: unknown) => ({ code: (e as CarrierError).code ?? 'none', message: String(e) })

const harness: Harness = {
  options: {},
  states: [],
  pollReads() {
    void (async () => {
      const link = harness.link as WebBluetoothLink
      for (;;) {
        try {
          await link.waitUp(60_000)
          const service = await link.device.gatt?.getPrimaryService(CARRIER_PROFILE.service)
          const c = await service?.getCharacteristic(CARRIER_PROFILE.notify)
          // a read's answer fires 'characteristicvaluechanged' like a notification does
          await (c as unknown as { readValue(): Promise<DataView> }).readValue()
        } catch {
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    })()
  },
  send: (bytes) => (harness.transport as Transport).send(new Uint8Array(bytes), { compress: false }),
  async call(f) {
    try {
      return await f(harness.link as WebBluetoothLink)
    } catch (e) {
      return errorOf(e)
    }
  },
}
window.harness = harness

;(document.getElementById('connect') as HTMLButtonElement).onclick = async () => {
  try {
    const link = await WebBluetoothLink.request(harness.options)
    link.onState((up, reason) => harness.states.push(up ? 'up' : `down: ${reason}`))
    harness.link = link
    harness.transport = createTransport(link)
    harness.states.push('connected')
  } catch (e) {
    harness.error = errorOf(e)
  }
}
