// Browser code of the Web Bluetooth test page (bundled by esbuild in the test): the library's
// WebBluetoothLink under a real core Transport, driven from Node through window.harness.
import { profileUuids, WebBluetoothLink, type WebBluetoothOptions } from '../../../adapters/ble/web.js'
import { createTransport } from '../../../src/index.js'
import type { CarrierError, SendReport, Transport } from '../../../src/transport.js'

interface Harness {
  options: WebBluetoothOptions
  link?: WebBluetoothLink
  transport?: Transport
  states: string[]
  /** Codes of the dif messages refused for their size. */
  refused: string[]
  /** What the page's transport received: length, SHA-256 (hex), transfer id. */
  received: { length: number; sha256: string; transferId: string }[]
  error?: { code: string; message: string }
  /** Keep a read of the notify characteristic pending (see the test: the emulation cannot notify). */
  pollReads(): void
  send(bytes: number[]): Promise<SendReport>
  /** dif profile: one whole message, chunked and ended by EOM. */
  sendMessage(bytes: number[]): Promise<void>
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
  refused: [],
  received: [],
  pollReads() {
    void (async () => {
      const link = harness.link as WebBluetoothLink
      for (;;) {
        try {
          await link.waitUp(60_000)
          const uuids = profileUuids(link.profile)
          const service = await link.device.gatt?.getPrimaryService(uuids.service)
          const c = await service?.getCharacteristic(uuids.toCentral)
          // a read's answer fires 'characteristicvaluechanged' like a notification does
          await (c as unknown as { readValue(): Promise<DataView> }).readValue()
        } catch {
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    })()
  },
  sendMessage: (bytes) => (harness.link as WebBluetoothLink).sendMessage(new Uint8Array(bytes)),
  send: (bytes) => (harness.transport as Transport).send(new Uint8Array(bytes), { compress: false }),
}
window.harness = harness

;(document.getElementById('connect') as HTMLButtonElement).onclick = async () => {
  try {
    const link = await WebBluetoothLink.request({ ...harness.options, onRefused: (e) => harness.refused.push(e.code) })
    link.onState((up, reason) => harness.states.push(up ? 'up' : `down: ${reason}`))
    harness.link = link
    const transport = createTransport(link)
    harness.transport = transport
    void (async () => {
      for await (const r of transport.receive()) {
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', r.data.slice()))
        const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
        harness.received.push({ length: r.data.length, sha256, transferId: r.transferId })
      }
    })()
    harness.states.push('connected')
  } catch (e) {
    harness.error = errorOf(e)
  }
}
