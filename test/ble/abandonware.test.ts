import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import type { Stack } from '../../adapters/ble/hci.js'
import { BlePeripheralLink } from '../../adapters/ble/peripheral.js'
import { UnixHciSocket } from '../../adapters/ble/unix-hci-socket.js'
import { haveBtvirt } from '../support/btvirt.js'
import { useBtvirt } from '../support/use-btvirt.js'
import { bleExchange } from './pair.js'

const require = createRequire(import.meta.url)

/**
 * @abandonware/noble and @abandonware/bleno, the names in the original request, injected into the
 * Links. Their HCI module is native-only (no UART driver) and its constructor throws on a kernel
 * without AF_BLUETOOTH, so here it is replaced, before they load, by a class of the same shape that
 * opens our H4 unix-socket transport to btvirt. Everything above the HCI socket is theirs.
 */
function loadAbandonware(socketPath: string): { noble: Stack; bleno: Stack } {
  const hciModule = require.resolve('@abandonware/bluetooth-hci-socket', {
    paths: [dirname(require.resolve('@abandonware/bleno/package.json'))],
  })
  class EmulatorHciSocket extends UnixHciSocket {
    constructor() {
      super(socketPath)
    }
  }
  require.cache[hciModule] = { id: hciModule, filename: hciModule, loaded: true, exports: EmulatorHciSocket } as NodeJS.Module
  const bleno = require('@abandonware/bleno')
  const noble = require('@abandonware/noble/with-custom-binding')({})
  return { noble, bleno }
}

describe.skipIf(!haveBtvirt())('BLE with injected @abandonware/noble and @abandonware/bleno', () => {
  const bt = useBtvirt()

  it('passes the 100 KB case each way', { timeout: 60_000 }, async () => {
    const { noble, bleno } = loadAbandonware(bt.socket)
    expect(bleno.constructor.name).toBe('Bleno')
    const peripheral = await BlePeripheralLink.start({ bleno, token: 'aband' })
    const central = await BleCentralLink.connect({ noble, token: 'aband' })
    await peripheral.waitUp()
    try {
      // @abandonware/noble asks for 256 whatever it is told; both sides agree on it
      expect(central.negotiatedMtu).toBe(256)
      expect(peripheral.negotiatedMtu).toBe(256)
      await bleExchange({ central, peripheral, close: async () => {} }, 100 * 1024)
    } finally {
      await central.close()
      await peripheral.close()
    }
  })
})
