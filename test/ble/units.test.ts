import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { advertisementData, advertisesToken, scanResponseData } from '../../adapters/ble/advertising.js'
import { bleEndpointTransport } from '../../adapters/ble/endpoint-transport.js'
import { EomAssembler, eomChunks } from '../../adapters/ble/eom.js'
import { parseHci, waitPoweredOn } from '../../adapters/ble/hci.js'
import { CARRIER_PROFILE, DIF_PROFILE } from '../../adapters/ble/profile.js'

/** A stack that only reports adapter states: what noble/bleno emit for each case. */
function stackIn(...states: string[]) {
  const s = Object.assign(new EventEmitter(), { state: undefined as string | undefined })
  setTimeout(() => {
    for (const st of states) {
      s.state = st
      s.emit('stateChange', st)
    }
  }, 5)
  return s
}

describe('BLE adapter states, HCI specs, advertising, EOM framing', () => {
  it('says clearly why the adapter cannot be used', async () => {
    await expect(waitPoweredOn(stackIn('unsupported'))).rejects.toMatchObject({ code: 'ERR_BLE_NO_ADAPTER' })
    await expect(waitPoweredOn(stackIn('unauthorized'))).rejects.toMatchObject({
      code: 'ERR_BLE_PERMISSION',
      message: expect.stringContaining('setcap'),
    })
    await expect(waitPoweredOn(stackIn('poweredOff'), 50)).rejects.toMatchObject({ code: 'ERR_BLE_POWERED_OFF' })
    await expect(waitPoweredOn(stackIn('poweredOff', 'poweredOn'), 1000)).resolves.toBeUndefined()
  })

  it('parses HCI transport specs and refuses others', () => {
    expect(parseHci('hci:1')).toEqual({ kind: 'hci', deviceId: 1 })
    expect(parseHci('hci0')).toEqual({ kind: 'hci', deviceId: 0 })
    expect(parseHci('uart:/dev/ttyACM0@115200')).toEqual({ kind: 'uart', port: '/dev/ttyACM0', baudRate: 115200 })
    expect(parseHci('unix:/tmp/x/bt-server-le')).toEqual({ kind: 'unix', path: '/tmp/x/bt-server-le' })
    for (const bad of ['', 'hci:x', 'usb:1', '/dev/ttyACM0'])
      expect(() => parseHci(bad), bad).toThrow(/ERR_INVALID_HCI|not an HCI/)
  })

  it('fits the service UUID, a 12-character token and a name in legacy advertising', () => {
    const adv = advertisementData(CARRIER_PROFILE.service)
    const scan = scanResponseData(CARRIER_PROFILE.service, 'abcdefghijkl', 'a long device name')
    expect(adv.length).toBeLessThanOrEqual(31)
    expect(scan.length).toBeLessThanOrEqual(31)
    expect(() => scanResponseData(CARRIER_PROFILE.service, 'x'.repeat(14))).toThrow(/too long/)
    const serviceData = [{ uuid: CARRIER_PROFILE.service.replace(/-/g, ''), data: Buffer.from('abcdefghijkl') }]
    expect(advertisesToken({ serviceData }, CARRIER_PROFILE.service, 'abcdefghijkl')).toBe(true)
    expect(advertisesToken({ serviceData }, CARRIER_PROFILE.service, 'abcdefghijk')).toBe(false)
  })

  it('EOM framing: chunks round-trip; an oversized message is refused and the next one delivered', () => {
    const got: string[] = []
    const refused: number[] = []
    const asm = new EomAssembler(
      100,
      (m) => got.push(new TextDecoder().decode(m)),
      (n) => refused.push(n),
    )
    for (const c of eomChunks(new TextEncoder().encode('x'.repeat(150)), 20)) asm.push(c)
    for (const c of eomChunks(new TextEncoder().encode('{"ok":1}'), 3)) asm.push(c)
    expect(refused).toEqual([150])
    expect(got).toEqual(['{"ok":1}'])
  })

  it('an agent refuses ble:// endpoints it cannot serve before touching the radio', async () => {
    const t = await bleEndpointTransport()
    try {
      await expect(t.send(`ble://${DIF_PROFILE.service}?token=abc`, '{}')).rejects.toMatchObject({
        code: 'ERR_INVALID_ENDPOINT',
        message: expect.stringContaining('only the carrier GATT profile'),
      })
      await expect(t.send('ble://not-a-uuid', '{}')).rejects.toMatchObject({ code: 'ERR_INVALID_ENDPOINT' })
      await expect(t.send(`ble://${CARRIER_PROFILE.service}?token=far-too-long-token`, '{}')).rejects.toMatchObject({
        code: 'ERR_INVALID_ENDPOINT',
      })
    } finally {
      await t.close()
    }
  })
})
