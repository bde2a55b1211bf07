import { describe, expect, it } from 'vitest'
import {
  CardApplet,
  CardDispatcher,
  decodeNdef,
  encodeNdef,
  parseResponse,
  readType4Ndef,
  recordUri,
  SW,
  Type4Tag,
  uriRecord,
  writeType4Ndef,
} from '../../adapters/nfc/index.js'

const tx = (card: { process(c: Uint8Array): Uint8Array }) => async (c: Uint8Array) => card.process(c)

describe('NDEF', () => {
  it('URI records use the NFC Forum prefix codes and round-trip, short and long', () => {
    const short = uriRecord('https://example.org/i?_oob=abc')
    expect(short.payload[0]).toBe(4) // "https://"
    const long = uriRecord(`didcomm://invite?_oob=${'x'.repeat(600)}`)
    expect(long.payload[0]).toBe(0)
    const bytes = encodeNdef([short, long])
    expect(bytes[0]).toBe(0x91) // MB, SR, well-known
    expect(decodeNdef(bytes).map(recordUri)).toEqual([recordUri(short), recordUri(long)])
  })

  it('refuses truncated or malformed messages with ERR_NDEF', () => {
    const bytes = encodeNdef([uriRecord('https://a.example')])
    expect(() => decodeNdef(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/)
    expect(() => decodeNdef(Uint8Array.of(0x11, 1, 0, 0x55))).toThrow(/MB flag/)
    expect(() => decodeNdef(Uint8Array.of(...bytes, 0))).toThrow(/after the last/)
    expect(() => encodeNdef([])).toThrow(/at least one record/)
  })
})

describe('Type 4 Tag', () => {
  it('serves its NDEF message to a reader, takes a new one, and reports status words for bad commands', async () => {
    const tag = new Type4Tag({ uri: 'https://example.org/invite?_oob=eyJ9' })
    expect((await readType4Ndef(tx(tag))).map(recordUri)).toEqual(['https://example.org/invite?_oob=eyJ9'])
    const long = `https://example.org/${'y'.repeat(1000)}`
    await writeType4Ndef(tx(tag), [uriRecord(long)])
    expect(decodeNdef(tag.ndef).map(recordUri)).toEqual([long])
    const sw = (c: number[]) => parseResponse(tag.process(Uint8Array.from(c))).sw
    expect(sw([0x00, 0xb0, 0, 0, 2])).toBe(SW.OK) // NDEF file still selected
    expect(sw([0x00, 0xa4, 0x00, 0x0c, 2, 0xe1, 0x05])).toBe(SW.FILE_NOT_FOUND)
    expect(sw([0x00, 0xb0, 0, 0, 2])).toBe(SW.OK) // a failed SELECT keeps the file
    expect(sw([0x00, 0xa4, 0x00, 0x0c, 2, 0xe1, 0x03])).toBe(SW.OK)
    expect(sw([0x00, 0xd6, 0, 0, 1, 0])).toBe(SW.SECURITY_NOT_SATISFIED) // CC is read-only
    expect(sw([0x80, 0xb0, 0, 0, 2])).toBe(SW.CLA_NOT_SUPPORTED)
    expect(sw([0x00, 0xb0, 0, 0, 9, 9])).toBe(SW.WRONG_LENGTH)
    expect(decodeNdef(tag.ndef).map(recordUri)).toEqual([long])
  })

  it('a read-only tag refuses writes; a message too large for the tag is refused before writing', async () => {
    const tag = new Type4Tag({ uri: 'https://a.example', readOnly: true })
    await expect(writeType4Ndef(tx(tag), [uriRecord('https://b.example')])).rejects.toThrow(/read-only/)
    const small = new Type4Tag({ uri: 'https://a.example', maxNdefBytes: 64 })
    await expect(writeType4Ndef(tx(small), [uriRecord(`https://${'z'.repeat(100)}`)])).rejects.toThrow(/exceeds the tag/)
    expect((await readType4Ndef(tx(small))).map(recordUri)).toEqual(['https://a.example'])
  })

  it('CardDispatcher: the SELECT picks the application; our applet and the tag share one card', async () => {
    const card = new CardDispatcher([new CardApplet(), new Type4Tag({ uri: 'https://a.example' })])
    expect(parseResponse(card.process(Uint8Array.of(0x80, 0xc2, 0, 0))).sw).toBe(SW.CONDITIONS_NOT_SATISFIED) // nothing selected
    expect((await readType4Ndef(tx(card))).map(recordUri)).toEqual(['https://a.example'])
    const select = Uint8Array.of(0, 0xa4, 4, 0, 9, 0xf0, 1, 0x44, 0x49, 0x44, 0x43, 0x4f, 0x4d, 0x4d, 0)
    expect(parseResponse(card.process(select)).sw).toBe(SW.OK)
    expect(parseResponse(card.process(Uint8Array.of(0, 0xa4, 4, 0, 2, 1, 2, 0))).sw).toBe(SW.FILE_NOT_FOUND)
  })
})
