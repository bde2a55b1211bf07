import { expect } from 'vitest'
import { BleCentralLink, type CentralOptions } from '../../adapters/ble/central.js'
import { BlePeripheralLink, type PeripheralOptions } from '../../adapters/ble/peripheral.js'
import { seededBytes } from '../../src/testing/prng.js'
import { createTransport } from '../../src/wire/create-transport.js'

export interface BlePair {
  central: BleCentralLink
  peripheral: BlePeripheralLink
  close: () => Promise<void>
}

/** A peripheral and a central on their own emulated controllers, connected. */
export async function blePair(
  hci: string,
  o: { token: string; central?: Partial<CentralOptions>; peripheral?: Partial<PeripheralOptions> },
): Promise<BlePair> {
  const peripheral = await BlePeripheralLink.start({ hci, token: o.token, ...o.peripheral })
  const central = await BleCentralLink.connect({ hci, token: o.token, ...o.central })
  await peripheral.waitUp()
  return {
    central,
    peripheral,
    close: async () => {
      await central.close()
      await peripheral.close()
    },
  }
}

/** `bytes` from the central to the peripheral and other `bytes` back, each checked byte-exact. */
export async function bleExchange(pair: BlePair, bytes: number): Promise<void> {
  const a = createTransport(pair.central, { closeLink: false })
  const b = createTransport(pair.peripheral, { closeLink: false })
  try {
    const up = seededBytes(bytes, 1)
    const down = seededBytes(bytes, 2)
    const inB = b.receive()[Symbol.asyncIterator]()
    const inA = a.receive()[Symbol.asyncIterator]()
    expect((await a.send(up)).confirmed).toBe(true)
    expect(Buffer.compare(Buffer.from((await inB.next()).value?.data ?? []), Buffer.from(up))).toBe(0)
    expect((await b.send(down)).confirmed).toBe(true)
    expect(Buffer.compare(Buffer.from((await inA.next()).value?.data ?? []), Buffer.from(down))).toBe(0)
  } finally {
    await a.close()
    await b.close()
  }
}
