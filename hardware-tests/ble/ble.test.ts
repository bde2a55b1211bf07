import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/prng.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { bleExchange, blePair } from '../../test/ble/pair.js'
import { Btvirt, haveBtvirt } from '../../test/support/btvirt.js'

/*
 * BLE end to end on two radios. With CARRIER_HARDWARE=1, CARRIER_BLE_CENTRAL and
 * CARRIER_BLE_PERIPHERAL (HCI transports: hci0 / hci:1 / uart:/dev/ttyACM0, one dongle each) it runs
 * on real dongles (hardware-tests/README.md); otherwise — npm test, CI — on two controllers of
 * BlueZ's emulator, so the file never rots.
 */
const central = process.env.CARRIER_HARDWARE === '1' ? process.env.CARRIER_BLE_CENTRAL : undefined
const peripheral = process.env.CARRIER_HARDWARE === '1' ? process.env.CARRIER_BLE_PERIPHERAL : undefined
const hardware = central !== undefined && peripheral !== undefined
const ready = hardware || haveBtvirt()

describe.skipIf(!ready)(`BLE end to end (${hardware ? `${central} ↔ ${peripheral}` : 'emulated controllers'})`, () => {
  let bt: Btvirt | undefined
  let hci: { central: string; peripheral: string }
  beforeAll(async () => {
    if (hardware) hci = { central: central as string, peripheral: peripheral as string }
    else {
      bt = await Btvirt.start()
      hci = { central: bt.hci, peripheral: bt.hci }
    }
  })
  afterAll(async () => {
    await bt?.stop()
  })

  const pair = (token: string) =>
    blePair(hci.peripheral, { token, central: { hci: hci.central }, peripheral: { hci: hci.peripheral } })

  it('discovers by token, negotiates the MTU and moves 100 KB each way', { timeout: 120_000 }, async () => {
    const p = await pair('hw100')
    try {
      // real phones and dongles may settle lower than 517; the emulator gives what we ask for
      if (!hardware) expect(p.central.negotiatedMtu).toBe(517)
      expect(p.central.negotiatedMtu).toBe(p.peripheral.negotiatedMtu)
      await bleExchange(p, 100 * 1024)
    } finally {
      await p.close()
    }
  })

  it('survives the peripheral dropping the link at 50 % of 200 KB: delivered once', { timeout: 120_000 }, async () => {
    const p = await pair('hwdrop')
    const a = createTransport(p.central)
    const got: Uint8Array[] = []
    const b = createTransport(p.peripheral, { onMessage: (m) => void got.push(m.data) })
    try {
      const data = seededBytes(200 * 1024, 8)
      let dropped = false
      const report = await a.send(data, {
        onProgress: (x) => {
          if (dropped || x.sentBytes < x.totalBytes / 2) return
          dropped = true
          p.peripheral.disconnect()
        },
      })
      expect(dropped).toBe(true)
      expect(report.confirmed).toBe(true)
      await new Promise((r) => setTimeout(r, 300))
      expect(got).toHaveLength(1)
      expect(Buffer.compare(Buffer.from(got[0] as Uint8Array), Buffer.from(data))).toBe(0)
    } finally {
      await a.close()
      await b.close()
      await p.close()
    }
  })
})
