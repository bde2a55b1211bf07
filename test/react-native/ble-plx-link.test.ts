/**
 * The React Native example's Link (examples/react-native/ble-plx-link.ts) against a stand-in for
 * react-native-ble-plx's BleManager, typed by ble-plx's own declarations: no phone here. What is
 * checked is the Link's part only (base64 both ways, the frame size from the negotiated MTU,
 * backpressure, down and close); chunking is the core's, run on top of it at the end.
 */
import type { Characteristic, Device, Subscription } from 'react-native-ble-plx'
import { describe, expect, it } from 'vitest'
import { CARRIER_PROFILE } from '../../adapters/ble/profile.js'
import { type BlePlx, BlePlxLink, frameSizeFor, fromBase64, toBase64 } from '../../examples/react-native/ble-plx-link.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import type { Link } from '../../src/transport.js'
import { createTransport } from '../../src/wire/create-transport.js'

type Monitor = (error: null, c: Characteristic | null) => void

/**
 * A BleManager whose radio is `air` (one end of a memory link; the peripheral's transport holds the
 * other): writes go into it as bytes, what comes out of it is notified.
 */
function fakeBle(attMtu: number, air?: Link) {
  const calls: { method: string; args: unknown[] }[] = []
  const writes: { service: string; characteristic: string; value: string; done: () => void }[] = []
  let monitor: Monitor | undefined
  let disconnected: (() => void) | undefined
  const removed: string[] = []
  const sub = (name: string): Subscription => ({ remove: () => void removed.push(name) })
  const notify = (frame: Uint8Array) => monitor?.(null, { value: toBase64(frame) } as Characteristic)
  air?.onFrame(notify)
  const call = (method: string, args: unknown[], device: Partial<Device>) => {
    calls.push({ method, args })
    return device as Device
  }
  const ble: BlePlx = {
    connectToDevice: async (id) => call('connect', [id], { id }),
    discoverAllServicesAndCharacteristicsForDevice: async (id) => call('discover', [id], { id }),
    requestMTUForDevice: async (id, mtu) => call('mtu', [id, mtu], { id, mtu: attMtu }),
    monitorCharacteristicForDevice: (id, service, characteristic, listener) => {
      calls.push({ method: 'monitor', args: [id, service, characteristic] })
      monitor = listener as Monitor
      return sub('monitor')
    },
    onDeviceDisconnected: (_id, listener) => {
      disconnected = () => listener(null, null)
      return sub('disconnected')
    },
    writeCharacteristicWithoutResponseForDevice: (_id, service, characteristic, value) =>
      new Promise((resolve) => {
        const done = () => resolve({} as Characteristic)
        writes.push({ service, characteristic, value, done })
        if (air) void air.send(fromBase64(value)).then(done)
      }),
    cancelDeviceConnection: async (id) => call('cancel', [id], { id }),
  }
  return { ble, calls, writes, removed, notify, disconnect: () => disconnected?.() }
}

describe('examples/react-native: the react-native-ble-plx Link', () => {
  it('connects with our profile, asks for MTU 517 and sizes frames to what was negotiated', async () => {
    const f = fakeBle(185)
    const link = await BlePlxLink.connect(f.ble, 'phone-peer')
    expect(f.calls.map((c) => c.method)).toEqual(['connect', 'discover', 'mtu', 'monitor'])
    expect(f.calls[2]?.args).toEqual(['phone-peer', 517])
    expect(f.calls[3]?.args).toEqual(['phone-peer', CARRIER_PROFILE.service, CARRIER_PROFILE.notify])
    expect(link.mtu).toBe(182)
    expect(link.duplex).toBe(true)
    // ATT's floor (23) and the attribute ceiling (512)
    expect([23, 247, 517, 600].map(frameSizeFor)).toEqual([20, 244, 512, 512])
  })

  it('writes frames as base64 without response, one at a time, resolving when ble-plx took each', async () => {
    const f = fakeBle(247)
    const link = await BlePlxLink.connect(f.ble, 'd')
    const frame = Uint8Array.from([0, 1, 2, 250, 251, 252, 253, 254, 255])
    let firstDone = false
    const first = link.send(frame).then(() => (firstDone = true))
    const second = link.send(seededBytes(244, 1))
    await new Promise((r) => setTimeout(r, 10))
    expect(f.writes).toHaveLength(1) // the second waits for the first
    expect(f.writes[0]).toMatchObject({
      service: CARRIER_PROFILE.service,
      characteristic: CARRIER_PROFILE.write,
      value: 'AAEC+vv8/f7/',
    })
    expect(firstDone).toBe(false) // backpressure: pending until the native write resolves
    f.writes[0]?.done()
    await first
    await new Promise((r) => setTimeout(r, 10))
    expect(fromBase64(f.writes[1]?.value ?? '')).toEqual(seededBytes(244, 1))
    f.writes[1]?.done()
    await second
    await expect(link.send(new Uint8Array(245))).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' })
  })

  it('hands notifications to onFrame as bytes', async () => {
    const f = fakeBle(185)
    const link = await BlePlxLink.connect(f.ble, 'd')
    const got: Uint8Array[] = []
    const off = link.onFrame((b) => got.push(b))
    f.notify(Uint8Array.from([0xde, 0xad, 0xbe, 0xef]))
    off()
    f.notify(Uint8Array.from([1]))
    expect(got).toEqual([Uint8Array.from([0xde, 0xad, 0xbe, 0xef])])
  })

  it('rejects sends with ERR_LINK_DOWN once disconnected, and ERR_LINK_CLOSED after close, which unsubscribes', async () => {
    const f = fakeBle(185)
    const down = await BlePlxLink.connect(f.ble, 'd')
    f.disconnect()
    await expect(down.send(new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_LINK_DOWN' })

    const g = fakeBle(185)
    const link = await BlePlxLink.connect(g.ble, 'e')
    const got: Uint8Array[] = []
    link.onFrame((b) => got.push(b))
    await link.close()
    expect(g.removed.sort()).toEqual(['disconnected', 'monitor'])
    expect(g.calls.at(-1)).toEqual({ method: 'cancel', args: ['e'] })
    g.notify(new Uint8Array(3))
    expect(got).toEqual([])
    await expect(link.send(new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_LINK_CLOSED' })
    const ac = new AbortController()
    ac.abort()
    await expect(down.send(new Uint8Array(1), ac.signal)).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  it('carries 20 KB both ways through the core (createTransport), byte-exact', async () => {
    const pair = memoryLinkPair({ mtu: 182 })
    const f = fakeBle(185, pair.a)
    const phone = createTransport(await BlePlxLink.connect(f.ble, 'd'))
    const peripheral = createTransport(pair.b)
    const up = seededBytes(20_000, 2)
    const downData = seededBytes(20_000, 3)
    const atPeripheral = (async () => {
      for await (const r of peripheral.receive()) return r.data
    })()
    const atPhone = (async () => {
      for await (const r of phone.receive()) return r.data
    })()
    await phone.send(up)
    await peripheral.send(downData)
    expect(await atPeripheral).toEqual(up)
    expect(await atPhone).toEqual(downData)
    expect(f.writes.every((w) => fromBase64(w.value).length <= 182)).toBe(true)
    await phone.close()
    await peripheral.close()
  })
})
