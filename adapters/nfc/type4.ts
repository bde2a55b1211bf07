import { CarrierError } from '../../src/transport.js'
import { encodeCommand, encodeResponse, parseCommand, parseResponse, SW } from './apdu.js'
import { decodeNdef, encodeNdef, type NdefRecord, uriRecord } from './ndef.js'
import type { Transmit } from './reader-link.js'

/** Anything that answers C-APDUs: CardApplet, Type4Tag, a CardDispatcher of several. */
export interface ApduResponder {
  process(capdu: Uint8Array): Uint8Array
}

/** NFC Forum Type 4 Tag (T4T 2.0): the NDEF Tag Application, its CC file and NDEF file. */
export const NDEF_AID = Uint8Array.of(0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01)
const CC_FILE = 0xe103
const NDEF_FILE = 0xe104
const INS_SELECT = 0xa4
const INS_READ_BINARY = 0xb0
const INS_UPDATE_BINARY = 0xd6

const status = (sw: number) => encodeResponse(new Uint8Array(0), sw)
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/**
 * The card side of a Type 4 Tag: an NDEF message (a DIDComm out-of-band invitation URL, say) that
 * any phone reads on tap. Writable unless `readOnly`.
 */
export class Type4Tag implements ApduResponder {
  private file = new Uint8Array(0)
  private appSelected = false
  private selectedFile: number | undefined
  private readonly maxNdef: number
  private readonly readOnly: boolean
  /** Max R-APDU / C-APDU data the tag announces in its CC file. */
  private readonly mle = 0xff
  private readonly mlc = 0xff

  constructor(o: { records?: NdefRecord[]; uri?: string; maxNdefBytes?: number; readOnly?: boolean } = {}) {
    this.maxNdef = o.maxNdefBytes ?? 4096
    this.readOnly = o.readOnly ?? false
    const records = o.records ?? (o.uri !== undefined ? [uriRecord(o.uri)] : undefined)
    this.setNdef(records ? encodeNdef(records) : new Uint8Array(0))
  }

  /** The NDEF message now on the tag (what a reader last wrote). */
  get ndef(): Uint8Array {
    const n = ((this.file[0] as number) << 8) | (this.file[1] as number)
    return this.file.slice(2, 2 + n)
  }

  setNdef(message: Uint8Array): void {
    if (message.length + 2 > this.maxNdef) throw new CarrierError('ERR_NDEF', `NDEF message over ${this.maxNdef - 2} bytes`)
    this.file = new Uint8Array(this.maxNdef)
    this.file[0] = message.length >> 8
    this.file[1] = message.length & 0xff
    this.file.set(message, 2)
  }

  private cc(): Uint8Array {
    // biome-ignore format: the CC file's fields, one per line
    return Uint8Array.of(
      0x00, 0x0f, // CCLEN
      0x20, // mapping version 2.0
      this.mle >> 8, this.mle & 0xff,
      this.mlc >> 8, this.mlc & 0xff,
      0x04, 0x06, // NDEF File Control TLV
      NDEF_FILE >> 8, NDEF_FILE & 0xff,
      this.maxNdef >> 8, this.maxNdef & 0xff,
      0x00, // read access: free
      this.readOnly ? 0xff : 0x00, // write access
    )
  }

  process(capdu: Uint8Array): Uint8Array {
    let c: ReturnType<typeof parseCommand>
    try {
      c = parseCommand(capdu)
    } catch {
      return status(SW.WRONG_LENGTH)
    }
    if (c.cla !== 0x00) return status(SW.CLA_NOT_SUPPORTED)
    if (c.ins === INS_SELECT) {
      if (c.p1 === 0x04) {
        this.appSelected = same(c.data, NDEF_AID)
        this.selectedFile = undefined
        return status(this.appSelected ? SW.OK : SW.FILE_NOT_FOUND)
      }
      if (c.p1 === 0x00 && c.p2 === 0x0c && c.data.length === 2) {
        if (!this.appSelected) return status(SW.FILE_NOT_FOUND)
        const id = ((c.data[0] as number) << 8) | (c.data[1] as number)
        if (id !== CC_FILE && id !== NDEF_FILE) return status(SW.FILE_NOT_FOUND)
        this.selectedFile = id
        return status(SW.OK)
      }
      return status(SW.INCORRECT_P1P2)
    }
    if (c.ins !== INS_READ_BINARY && c.ins !== INS_UPDATE_BINARY) return status(SW.INS_NOT_SUPPORTED)
    if (this.selectedFile === undefined) return status(SW.CONDITIONS_NOT_SATISFIED)
    const offset = (c.p1 << 8) | c.p2
    if (offset > 0x7fff) return status(SW.INCORRECT_P1P2)
    const file = this.selectedFile === CC_FILE ? this.cc() : this.file
    if (c.ins === INS_READ_BINARY) {
      if (offset > file.length) return status(SW.INCORRECT_P1P2)
      const n = Math.min(c.le ?? 256, this.mle, file.length - offset)
      return encodeResponse(file.subarray(offset, offset + n), SW.OK)
    }
    if (this.selectedFile === CC_FILE || this.readOnly) return status(SW.SECURITY_NOT_SATISFIED)
    if (c.data.length > this.mlc || offset + c.data.length > this.file.length) return status(SW.WRONG_LENGTH)
    this.file.set(c.data, offset)
    return status(SW.OK)
  }
}

export class TagError extends CarrierError {
  constructor(
    message: string,
    readonly sw?: number,
  ) {
    super('ERR_NFC_TAG', message)
  }
}

async function ok(transmit: Transmit, capdu: Uint8Array, what: string): Promise<Uint8Array> {
  const r = parseResponse(await transmit(capdu))
  if (r.sw !== SW.OK) throw new TagError(`${what}: status ${r.sw.toString(16).padStart(4, '0')}`, r.sw)
  return r.data
}

async function openNdefFile(
  transmit: Transmit,
): Promise<{ fileId: number; maxSize: number; mle: number; mlc: number; writable: boolean }> {
  await ok(transmit, encodeCommand({ cla: 0, ins: INS_SELECT, p1: 4, p2: 0, data: NDEF_AID, le: 256 }), 'SELECT NDEF application')
  await ok(
    transmit,
    encodeCommand({ cla: 0, ins: INS_SELECT, p1: 0, p2: 0x0c, data: Uint8Array.of(0xe1, 0x03) }),
    'SELECT CC file',
  )
  const cc = await ok(
    transmit,
    encodeCommand({ cla: 0, ins: INS_READ_BINARY, p1: 0, p2: 0, data: new Uint8Array(0), le: 15 }),
    'READ CC',
  )
  if (cc.length < 15 || cc[7] !== 0x04) throw new TagError('CC file without an NDEF File Control TLV')
  const fileId = ((cc[9] as number) << 8) | (cc[10] as number)
  await ok(transmit, encodeCommand({ cla: 0, ins: INS_SELECT, p1: 0, p2: 0x0c, data: cc.subarray(9, 11) }), 'SELECT NDEF file')
  return {
    fileId,
    mle: Math.max(1, Math.min(255, ((cc[3] as number) << 8) | (cc[4] as number))),
    mlc: Math.max(1, Math.min(255, ((cc[5] as number) << 8) | (cc[6] as number))),
    maxSize: ((cc[11] as number) << 8) | (cc[12] as number),
    writable: cc[14] === 0x00,
  }
}

/** Reads the NDEF message of a Type 4 Tag (a phone's HCE tag or a card) through any transmit. */
export async function readType4Ndef(transmit: Transmit): Promise<NdefRecord[]> {
  const f = await openNdefFile(transmit)
  const read = (offset: number, n: number) =>
    ok(
      transmit,
      encodeCommand({ cla: 0, ins: INS_READ_BINARY, p1: offset >> 8, p2: offset & 0xff, data: new Uint8Array(0), le: n }),
      'READ BINARY',
    )
  const nlen = await read(0, 2)
  const n = ((nlen[0] as number) << 8) | (nlen[1] as number)
  if (n === 0) return []
  if (n + 2 > f.maxSize) throw new TagError(`NLEN ${n} exceeds the file size ${f.maxSize}`)
  const out = new Uint8Array(n)
  for (let at = 0; at < n; ) {
    const part = await read(2 + at, Math.min(f.mle, n - at))
    if (part.length === 0) throw new TagError('READ BINARY returned no data')
    out.set(part.subarray(0, n - at), at)
    at += part.length
  }
  return decodeNdef(out)
}

/** Writes an NDEF message to a Type 4 Tag: NLEN 0, the message, then NLEN (T4T's update procedure). */
export async function writeType4Ndef(transmit: Transmit, records: NdefRecord[]): Promise<void> {
  const f = await openNdefFile(transmit)
  if (!f.writable) throw new TagError('the tag is read-only')
  const message = encodeNdef(records)
  if (message.length + 2 > f.maxSize)
    throw new TagError(`NDEF message of ${message.length} bytes exceeds the tag (${f.maxSize - 2})`)
  const update = (offset: number, data: Uint8Array) =>
    ok(transmit, encodeCommand({ cla: 0, ins: INS_UPDATE_BINARY, p1: offset >> 8, p2: offset & 0xff, data }), 'UPDATE BINARY')
  await update(0, Uint8Array.of(0, 0))
  for (let at = 0; at < message.length; at += f.mlc) await update(2 + at, message.subarray(at, at + f.mlc))
  await update(0, Uint8Array.of(message.length >> 8, message.length & 0xff))
}

/**
 * Several applications on one card (a phone's HCE service): a SELECT by AID picks the one that
 * answers 9000, and the following APDUs go to it — our applet and an NDEF tag side by side.
 */
export class CardDispatcher implements ApduResponder {
  private current: ApduResponder | undefined

  constructor(private readonly apps: ApduResponder[]) {}

  process(capdu: Uint8Array): Uint8Array {
    if (capdu.length >= 4 && capdu[1] === INS_SELECT && capdu[2] === 0x04) {
      for (const app of this.apps) {
        const r = app.process(capdu)
        if (r.length >= 2 && r[r.length - 2] === 0x90 && r[r.length - 1] === 0x00) {
          this.current = app
          return r
        }
      }
      this.current = undefined
      return status(SW.FILE_NOT_FOUND)
    }
    return this.current ? this.current.process(capdu) : status(SW.CONDITIONS_NOT_SATISFIED)
  }
}
