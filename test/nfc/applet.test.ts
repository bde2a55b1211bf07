import { describe, expect, it } from 'vitest'
import { ApduReaderLink, CARRIER_AID, CardApplet, encodeCommand, parseResponse, SW } from '../../adapters/nfc/index.js'
import { createTransport, type Received } from '../../src/index.js'
import { conformanceSuite } from '../../src/testing/conformance.js'
import { seededBytes } from '../../src/testing/prng.js'

/** A reader and a card joined by APDU exchanges (what PC/SC does in the real adapter); the card can leave the field. */
function fieldPair(o: { extended: boolean }) {
  const card = new CardApplet(o.extended ? { maxCommandData: 4096, maxResponseData: 4096, mtu: 8192 } : { mtu: 4096 })
  let present = true
  const reader = new ApduReaderLink(
    async (capdu) => {
      await new Promise((r) => setImmediate(r))
      if (!present) throw new Error('no card')
      return card.process(capdu)
    },
    { extended: o.extended, pollMs: 5, mtu: o.extended ? 8192 : 4096 },
  )
  return {
    a: reader,
    b: card,
    interrupt: async () => {
      present = false
      reader.cardRemoved()
      await new Promise((r) => setTimeout(r, 300))
      present = true
    },
    close: async () => {
      await reader.close()
    },
  }
}

for (const extended of [false, true]) {
  conformanceSuite(
    `NFC APDU link (reader ↔ card applet), ${extended ? 'extended' : 'short'} APDUs`,
    async () => fieldPair({ extended }),
    {
      largeMessageBytes: 1024 * 1024,
      messagesInARow: 100,
    },
  )
}

describe('NFC APDU link', () => {
  for (const extended of [false, true]) {
    it(`moves 64 KB reader → card and card → reader byte-exact with ${extended ? 'extended' : 'short'} APDUs`, async () => {
      const p = fieldPair({ extended })
      const reader = createTransport(p.a)
      const card = createTransport(p.b)
      const first = <T>(t: { receive(): AsyncIterable<T> }) =>
        (async () => {
          for await (const r of t.receive()) return r
        })()
      const atCard = first<Received>(card)
      const atReader = first<Received>(reader)
      const up = seededBytes(64 * 1024, 1)
      const down = seededBytes(64 * 1024, 2)
      await Promise.all([reader.send(up), card.send(down)])
      expect(Buffer.compare(Buffer.from((await atCard)?.data ?? []), Buffer.from(up))).toBe(0)
      expect(Buffer.compare(Buffer.from((await atReader)?.data ?? []), Buffer.from(down))).toBe(0)
      await reader.close()
      await card.close()
    }, 60_000)
  }
})

describe('card applet status words', () => {
  const select = () => encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: CARRIER_AID, le: 256 })
  const sw = (r: Uint8Array) => parseResponse(r).sw

  it('answers malformed APDUs with the ISO status words and keeps its state', async () => {
    const card = new CardApplet()
    const got: Uint8Array[] = []
    card.onFrame((f) => got.push(f))
    expect(sw(card.process(encodeCommand({ cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: Uint8Array.of(1) })))).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    ) // before SELECT
    expect(sw(card.process(encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: Uint8Array.of(1, 2, 3) })))).toBe(
      SW.FILE_NOT_FOUND,
    )
    expect(sw(card.process(encodeCommand({ cla: 0, ins: 0xa4, p1: 0, p2: 0, data: CARRIER_AID })))).toBe(SW.INCORRECT_P1P2)
    const selected = parseResponse(card.process(select()))
    expect(selected.sw).toBe(SW.OK)
    expect(selected.data.length).toBeLessThanOrEqual(38) // nfc-pcsc's limit on a SELECT answer
    // a chain in progress
    expect(sw(card.process(encodeCommand({ cla: 0x90, ins: 0xc2, p1: 0, p2: 0, data: Uint8Array.of(1, 2) })))).toBe(SW.OK)
    expect(sw(card.process(Uint8Array.of(0x80, 0xc2, 0, 0, 9, 1, 2)))).toBe(SW.WRONG_LENGTH) // bad Lc
    expect(sw(card.process(Uint8Array.of(0x80, 0xc2)))).toBe(SW.WRONG_LENGTH) // truncated
    expect(sw(card.process(encodeCommand({ cla: 0x00, ins: 0xc2, p1: 0, p2: 0, data: Uint8Array.of(1) })))).toBe(
      SW.CLA_NOT_SUPPORTED,
    )
    expect(sw(card.process(encodeCommand({ cla: 0x80, ins: 0x12, p1: 0, p2: 0, data: Uint8Array.of(1) })))).toBe(
      SW.INS_NOT_SUPPORTED,
    )
    expect(sw(card.process(encodeCommand({ cla: 0x80, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 })))).toBe(
      SW.LAST_COMMAND_EXPECTED,
    ) // out of order
    expect(
      sw(card.process(encodeCommand({ cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: new Uint8Array(300), extended: true }))),
    ).toBe(SW.WRONG_LENGTH) // oversized
    expect(got).toHaveLength(0)
    // the chain is intact: its last part completes the frame
    expect(sw(card.process(encodeCommand({ cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: Uint8Array.of(3), le: 256 })))).toBe(SW.OK)
    expect(got.map((f) => [...f])).toEqual([[1, 2, 3]])
  })

  it('answers GET RESPONSE for the rest of a long card → reader frame, and 6985 with nothing pending', async () => {
    const card = new CardApplet()
    card.process(select())
    const frame = seededBytes(600, 3)
    await card.send(frame)
    let r = parseResponse(card.process(encodeCommand({ cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 })))
    const parts = [r.data]
    while ((r.sw & 0xff00) === 0x6100) {
      r = parseResponse(card.process(encodeCommand({ cla: 0x80, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 })))
      parts.push(r.data)
    }
    expect(r.sw).toBe(SW.OK)
    expect(Buffer.concat(parts)).toEqual(Buffer.from(frame))
    expect(sw(card.process(encodeCommand({ cla: 0x80, ins: 0xc0, p1: 0, p2: 0, data: new Uint8Array(0), le: 256 })))).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    )
  })
})
