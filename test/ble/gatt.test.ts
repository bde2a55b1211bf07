import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import { BlePeripheralLink } from '../../adapters/ble/peripheral.js'
import { seededBytes } from '../../src/testing/prng.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { Btvirt, haveBtvirt } from '../support/btvirt.js'

describe.skipIf(!haveBtvirt())('BLE over the emulated controller', () => {
  let bt: Btvirt
  beforeAll(async () => {
    bt = await Btvirt.start()
  })
  afterAll(async () => {
    await bt?.stop()
  })

  it('discovers, connects with MTU 517 and moves 100 KB each way byte-exact', { timeout: 60_000 }, async () => {
    const peripheral = await BlePeripheralLink.start({ hci: bt.hci, token: 'tok1' })
    const central = await BleCentralLink.connect({ hci: bt.hci, token: 'tok1' })
    await peripheral.waitUp()
    expect(central.negotiatedMtu).toBe(517)
    expect(peripheral.negotiatedMtu).toBe(517)
    const a = createTransport(central)
    const b = createTransport(peripheral)
    const up = seededBytes(100 * 1024, 1)
    const down = seededBytes(100 * 1024, 2)
    const inB = b.receive()[Symbol.asyncIterator]()
    const inA = a.receive()[Symbol.asyncIterator]()
    const t0 = Date.now()
    const r1 = await a.send(up)
    const got1 = await inB.next()
    const r2 = await b.send(down)
    const got2 = await inA.next()
    console.log('ms', Date.now() - t0, r1.frames, r2.frames)
    expect(Buffer.from(got1.value.data).equals(Buffer.from(up))).toBe(true)
    expect(Buffer.from(got2.value.data).equals(Buffer.from(down))).toBe(true)
    await a.close()
    await b.close()
  })
})
