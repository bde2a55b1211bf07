import { describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/index.js'
import { crc32, crc32Portable } from '../../src/wire/checksum.js'
import {
  decodeControl,
  encodeCancel,
  encodeData,
  encodeDone,
  encodeForgot,
  encodeReject,
  encodeReport,
  encodeStart,
  encodeSymbol,
  isBareJson,
  isDataFrame,
  openData,
  T_FORGOT,
  T_START,
} from '../../src/wire/frame.js'
import { resolveSeq, segmentPlan, windowSegments } from '../../src/wire/reliable/window.js'

function flips(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let bit = 0; bit < frame.length * 8; bit++) {
    const f = frame.slice()
    f[bit >> 3] = (f[bit >> 3] as number) ^ (1 << (bit & 7))
    out.push(f)
  }
  return out
}

describe('frame codec', () => {
  const controls = [
    encodeStart({ slot: 5, tid: 0xdeadbeef, flags: 0b1101, total: 123_456_789, segmentSize: 17 }),
    encodeReport({ tid: 7, base: 300, credit: 127, bitmap: Uint8Array.of(0xff, 0x01, 0x80) }, 512),
    encodeDone(9, seededBytes(32, 1), 512),
    encodeReject(10, 2),
    encodeCancel(11),
    encodeSymbol({ tid: 12, flags: 1, total: 5000, symbolId: 77, payload: seededBytes(40, 2) }),
  ]

  it('round-trips every control frame', () => {
    expect(decodeControl(controls[0] as Uint8Array)).toEqual({
      type: T_START,
      slot: 5,
      tid: 0xdeadbeef,
      flags: 0b1101,
      total: 123_456_789,
      segmentSize: 17,
    })
    const report = decodeControl(controls[1] as Uint8Array)
    expect(report).toMatchObject({ tid: 7, base: 300, credit: 127 })
    expect(report && 'bitmap' in report && [...report.bitmap]).toEqual([0xff, 0x01, 0x80])
    expect(decodeControl(controls[2] as Uint8Array)).toMatchObject({ tid: 9, digest: seededBytes(32, 1) })
    expect(decodeControl(controls[3] as Uint8Array)).toMatchObject({ tid: 10, reason: 2 })
    expect(decodeControl(controls[4] as Uint8Array)).toMatchObject({ tid: 11 })
    expect(decodeControl(controls[5] as Uint8Array)).toMatchObject({
      tid: 12,
      total: 5000,
      symbolId: 77,
      payload: seededBytes(40, 2),
    })
  })

  it('never starts a frame with { or [ and tells bare JSON apart', () => {
    for (const f of controls) {
      expect([0x7b, 0x5b]).not.toContain(f[0])
      expect(isBareJson(f)).toBe(false)
    }
    expect(isBareJson(new TextEncoder().encode(' \n{"a":1}'))).toBe(true)
    expect(isDataFrame(encodeData(3, 1, 2, true, Uint8Array.of(1)))).toBe(true)
  })

  it('rejects every single-bit corruption of control and data frames', () => {
    for (const f of controls) for (const bad of flips(f)) expect(decodeControl(bad)).toBeUndefined()
    for (const compact of [true, false]) {
      const payload = seededBytes(compact ? 17 : 178, 3)
      const f = encodeData(4, 0xabc, 1000, compact, payload)
      expect(openData(f, 0xabc, 1000, compact)).toEqual(payload)
      for (const bad of flips(f)) expect(openData(bad, 0xabc, 1000, compact)).toBeUndefined()
      // the pseudo-header: the same frame checked as another transfer or sequence fails
      expect(openData(f, 0xabd, 1000, compact)).toBeUndefined()
      expect(openData(f, 0xabc, 1000 + (compact ? 256 : 65536), compact)).toBeUndefined()
    }
  })

  it('checks only the header of a DATA frame sent over an intact link (FLAG_INTACT)', () => {
    for (const compact of [true, false]) {
      const payload = seededBytes(compact ? 17 : 178, 4)
      const f = encodeData(4, 0xabc, 1000, compact, payload, true)
      expect(openData(f, 0xabc, 1000, compact, true)).toEqual(payload)
      // a frame checked one way never opens the other way
      expect(openData(f, 0xabc, 1000, compact, false)).toBeUndefined()
      expect(openData(encodeData(4, 0xabc, 1000, compact, payload), 0xabc, 1000, compact, true)).toBeUndefined()
      const head = compact ? 2 : 3
      const check = compact ? 1 : 4
      flips(f).forEach((bad, bit) => {
        const byte = bit >> 3
        const inPayload = byte >= head && byte < f.length - check
        // the payload is left to the link and the stream digest; header, seq and check are caught
        if (inPayload) expect(openData(bad, 0xabc, 1000, compact, true)).toHaveLength(payload.length)
        else expect(openData(bad, 0xabc, 1000, compact, true)).toBeUndefined()
      })
      expect(openData(f, 0xabd, 1000, compact, true)).toBeUndefined()
      expect(openData(f, 0xabc, 1000 + (compact ? 256 : 65536), compact, true)).toBeUndefined()
    }
  })

  it('rejects truncated and oversized lengths', () => {
    for (const f of controls) for (let n = 0; n < f.length; n++) expect(decodeControl(f.subarray(0, n))).toBeUndefined()
  })

  it('sizes frames to the MTU: compact frames on 20-byte links', () => {
    expect(segmentPlan(20)).toEqual({ segmentSize: 17, compact: true })
    expect(segmentPlan(182)).toEqual({ segmentSize: 175, compact: false })
    expect(() => segmentPlan(19)).toThrow(expect.objectContaining({ code: 'ERR_MTU_TOO_SMALL' }))
    expect(windowSegments(17, true, 1 << 20)).toBeLessThan(128)
    expect(windowSegments(65529, false, 1 << 20)).toBe(16)
  })

  it('resolves sequence numbers from their low bits around the first gap', () => {
    expect(resolveSeq(5, 0, true)).toBe(5)
    expect(resolveSeq(250, 300, true)).toBe(250)
    expect(resolveSeq(44, 300, true)).toBe(300)
    expect(resolveSeq(10, 65530, false)).toBe(65546)
  })

  it('computes the same CRC-32 natively and in portable JS, with continuation', () => {
    const data = seededBytes(10_000, 4)
    expect(crc32(data, 0)).toBe(crc32Portable(data, 0))
    expect(crc32(data.subarray(5000), crc32(data.subarray(0, 5000), 0))).toBe(crc32(data, 0))
    expect(crc32(new TextEncoder().encode('123456789'), 0)).toBe(0xcbf43926)
  })
})

describe('FORGOT (wire 1.1)', () => {
  it('round-trips the slot, and any flipped bit or a slot out of range makes it garbage', () => {
    for (const slot of [0, 7, 15]) {
      const f = encodeForgot(slot)
      expect(f).toHaveLength(6)
      expect(decodeControl(f)).toEqual({ type: T_FORGOT, slot })
      for (const g of flips(f)) expect(decodeControl(g)).toBeUndefined()
    }
    expect(decodeControl(encodeForgot(16))).toBeUndefined()
    const long = new Uint8Array(10)
    long.set(encodeForgot(1).subarray(0, 2))
    expect(decodeControl(long)).toBeUndefined()
  })
})
