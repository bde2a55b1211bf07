import { describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import { createStack, type Stack, waitPoweredOn } from '../../adapters/ble/hci.js'
import { haveBtvirt } from '../support/btvirt.js'
import { until } from '../support/until.js'
import { useBtvirt } from '../support/use-btvirt.js'
import { bleExchange, blePair } from './pair.js'

/**
 * The central writes with the write type the peripheral's characteristic declares (without
 * response when offered: Animo's peripherals offer write-with-response only), and our peripheral
 * declares either or both. bleno drops a write of a type its characteristic does not declare, so
 * an exchange that completes proves the type on the wire.
 */
describe.skipIf(!haveBtvirt())('BLE write types', () => {
  const bt = useBtvirt()

  for (const profile of ['carrier', 'dif'] as const) {
    it(`${profile} profile: a with-response-only peripheral (Animo's) gets writes with response`, {
      timeout: 30_000,
    }, async () => {
      const pair = await blePair(bt.hci, {
        token: `wr${profile}`,
        central: { profile },
        peripheral: { profile, writeTypes: 'withResponse' },
      })
      try {
        expect(pair.central.writeType).toBe('withResponse')
        await bleExchange(pair, 20_000)
      } finally {
        await pair.close()
      }
    })

    it(`${profile} profile: a peripheral offering both gets writes without response`, { timeout: 30_000 }, async () => {
      const pair = await blePair(bt.hci, {
        token: `wb${profile}`,
        central: { profile },
        peripheral: { profile, writeTypes: 'both' },
      })
      try {
        expect(pair.central.writeType).toBe('withoutResponse')
        await bleExchange(pair, 20_000)
      } finally {
        await pair.close()
      }
    })
  }

  it('carrier profile by default: without response', { timeout: 30_000 }, async () => {
    const pair = await blePair(bt.hci, { token: 'wdefault' })
    try {
      expect(pair.central.writeType).toBe('withoutResponse')
      await bleExchange(pair, 5_000)
    } finally {
      await pair.close()
    }
  })

  it('a write with response the peripheral refuses fails the send with ERR_BLE_WRITE', { timeout: 30_000 }, async () => {
    const bleno: Stack = await createStack('bleno', bt.hci)
    await waitPoweredOn(bleno)
    const SERVICE = '8129adad78954a7b94ee844ef3c54453'
    let refused = 0
    bleno.setServices([
      new bleno.PrimaryService({
        uuid: SERVICE,
        characteristics: [
          new bleno.Characteristic({
            uuid: '8129adad78954a7b94ee844ef3c54454',
            properties: ['write'],
            onWriteRequest: (_c: unknown, _d: Buffer, _o: number, _w: boolean, cb: (r: number) => void) => {
              refused++
              cb(0x80) // an application error: ATT Error Response
            },
          }),
          new bleno.Characteristic({ uuid: '8129adad78954a7b94ee844ef3c54455', properties: ['notify'] }),
        ],
      }),
    ])
    bleno.startAdvertising('refuses', [SERVICE])
    const central = await BleCentralLink.connect({ hci: bt.hci, reconnect: false, writeTimeoutMs: 500 })
    try {
      expect(central.writeType).toBe('withResponse')
      await expect(central.send(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
        code: 'ERR_BLE_WRITE',
        message: 'no answer to a write with response within 500 ms (refused, or the link is gone)',
      })
      await until(() => refused === 1)
    } finally {
      await central.close()
      bleno.stopAdvertising()
      bleno.disconnect?.()
      bleno.stop?.()
      const hci = bleno._bindings?._hci
      if (hci) hci.pollIsDevUp = () => {}
    }
  })

  it('a write characteristic that allows no write is refused with ERR_BLE_PROFILE', { timeout: 30_000 }, async () => {
    const bleno: Stack = await createStack('bleno', bt.hci)
    await waitPoweredOn(bleno)
    const SERVICE = '8129adad78954a7b94ee844ef3c54453'
    bleno.setServices([
      new bleno.PrimaryService({
        uuid: SERVICE,
        characteristics: [
          new bleno.Characteristic({ uuid: '8129adad78954a7b94ee844ef3c54454', properties: ['read'] }),
          new bleno.Characteristic({ uuid: '8129adad78954a7b94ee844ef3c54455', properties: ['notify'] }),
        ],
      }),
    ])
    bleno.startAdvertising('no-write', [SERVICE])
    try {
      await expect(BleCentralLink.connect({ hci: bt.hci, reconnect: false, scanTimeoutMs: 10_000 })).rejects.toMatchObject({
        code: 'ERR_BLE_PROFILE',
        message: expect.stringContaining('allows no write (properties: read)'),
      })
    } finally {
      bleno.stopAdvertising()
      bleno.disconnect?.()
      bleno.stop?.()
      const hci = bleno._bindings?._hci
      if (hci) hci.pollIsDevUp = () => {}
    }
  })
})
