import { describe, expect, it } from 'vitest'
import { CARRIER_PROFILE, DIF_PROFILE, makeBleEndpoint, parseBleEndpoint } from '../../adapters/ble/index.js'
import { CARRIER_AID, encodeCommand, encodeResponse, parseCommand, parseResponse, SW } from '../../adapters/nfc/index.js'
import { byteCapacity, defaultVersion, frameToModules } from '../../adapters/qr/index.js'
import { seededBytes } from '../../src/testing/prng.js'

describe('BLE profile and endpoints', () => {
  it('round-trips ble:// endpoints with and without a token, and refuses malformed ones', () => {
    const uri = makeBleEndpoint({ service: CARRIER_PROFILE.service, token: 'k3Yz' })
    expect(uri).toBe(`ble://${CARRIER_PROFILE.service}?token=k3Yz`)
    expect(parseBleEndpoint(uri)).toEqual({ service: CARRIER_PROFILE.service, token: 'k3Yz' })
    expect(parseBleEndpoint(`ble://${DIF_PROFILE.service.toUpperCase()}`)).toEqual({ service: DIF_PROFILE.service })
    for (const bad of ['ble://not-a-uuid', 'mqtt://x', `ble://${CARRIER_PROFILE.service}?token=${'x'.repeat(13)}`]) {
      expect(() => parseBleEndpoint(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ENDPOINT' }))
    }
  })
})

describe('APDU codec', () => {
  it('round-trips all four ISO cases, short and extended', () => {
    const data = seededBytes(300, 1)
    const cases = [
      { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: CARRIER_AID },
      { cla: 0, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 },
      { cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: data.subarray(0, 200), le: 100 },
      { cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data, le: 65536 },
      { cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data },
      { cla: 0x00, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0) },
    ]
    for (const c of cases) expect(parseCommand(encodeCommand(c))).toMatchObject({ ...c, data: c.data })
    expect(parseCommand(encodeCommand(cases[3] as never)).extended).toBe(true)
  })

  it('answers bad lengths with 6700 and never guesses', () => {
    for (const bad of [
      Uint8Array.of(0, 0xa4),
      Uint8Array.of(0, 0xa4, 4, 0, 5, 1, 2),
      Uint8Array.of(0, 0xa4, 4, 0, 0, 0, 3, 1),
      Uint8Array.of(0, 1, 2, 3, 0, 0),
    ]) {
      expect(() => parseCommand(bad)).toThrow(expect.objectContaining({ code: 'ERR_APDU', sw: SW.WRONG_LENGTH }))
    }
    expect(parseResponse(encodeResponse(Uint8Array.of(1, 2), SW.OK))).toEqual({ data: Uint8Array.of(1, 2), sw: 0x9000 })
  })
})

describe('QR frame sizing', () => {
  it('matches the byte-mode capacities in the field notes', () => {
    expect(byteCapacity(10, 'L')).toBe(271)
    expect(byteCapacity(20, 'L')).toBe(858)
    expect(byteCapacity(20, 'M')).toBe(666)
    expect(byteCapacity(25, 'L')).toBe(1273)
    expect(byteCapacity(40, 'L')).toBe(2953)
    expect(defaultVersion(4000)).toBe(20)
    expect(defaultVersion(100_000)).toBe(25)
  })

  it('encodes a full frame at exactly the chosen version, and refuses one byte more', () => {
    const qr = frameToModules(seededBytes(858, 2), { version: 20 })
    expect(qr.size).toBe(97) // 17 + 4 × 20 modules
    expect(qr.modules.length).toBe(97 * 97)
    expect(() => frameToModules(seededBytes(859, 2), { version: 20 })).toThrow(RangeError)
  })
})
