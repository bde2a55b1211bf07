import { CarrierError } from '../../src/transport.js'

/**
 * ISO 7816-4 APDUs, short and extended length. A C-APDU is CLA INS P1 P2 [Lc data] [Le]; an
 * R-APDU is [data] SW1 SW2. Parsing is strict: a length that does not match the bytes is an
 * error the applet answers with 6700, never a guess.
 */
export const SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  FILE_NOT_FOUND: 0x6a82,
  INCORRECT_P1P2: 0x6a86,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  LAST_COMMAND_EXPECTED: 0x6883,
  /** 61xx: xx more bytes available with GET RESPONSE. */
  MORE_DATA: 0x6100,
} as const

/** Our proprietary AID (RID F0 = proprietary, not registered): "DIDCOMM" in ASCII after F0 01. */
export const CARRIER_AID = Uint8Array.of(0xf0, 0x01, 0x44, 0x49, 0x44, 0x43, 0x4f, 0x4d, 0x4d)

export class ApduError extends CarrierError {
  constructor(
    message: string,
    readonly sw: number,
  ) {
    super('ERR_APDU', message)
  }
}

export interface CommandApdu {
  cla: number
  ins: number
  p1: number
  p2: number
  data: Uint8Array
  /** Expected response length; 0 means "as much as possible" (256 short / 65536 extended). */
  le?: number
  extended: boolean
}

export function encodeCommand(c: Omit<CommandApdu, 'extended'> & { extended?: boolean }): Uint8Array {
  const extended = c.extended ?? (c.data.length > 255 || (c.le !== undefined && c.le > 256))
  const n = c.data.length
  if (!extended) {
    if (n > 255) throw new ApduError('short APDU data over 255 bytes', SW.WRONG_LENGTH)
    const out = new Uint8Array(4 + (n > 0 ? 1 + n : 0) + (c.le !== undefined ? 1 : 0))
    out.set([c.cla, c.ins, c.p1, c.p2])
    let at = 4
    if (n > 0) {
      out[at++] = n
      out.set(c.data, at)
      at += n
    }
    if (c.le !== undefined) out[at] = c.le === 256 ? 0 : c.le
    return out
  }
  if (n > 65535) throw new ApduError('extended APDU data over 65535 bytes', SW.WRONG_LENGTH)
  const out = new Uint8Array(4 + (n > 0 ? 3 + n : 0) + (c.le !== undefined ? (n === 0 ? 3 : 2) : 0))
  out.set([c.cla, c.ins, c.p1, c.p2])
  let at = 4
  if (n > 0) {
    out.set([0, n >> 8, n & 0xff], at)
    out.set(c.data, at + 3)
    at += 3 + n
  }
  if (c.le !== undefined) {
    const le = c.le === 65536 ? 0 : c.le
    if (n === 0) out[at++] = 0
    out[at++] = le >> 8
    out[at] = le & 0xff
  }
  return out
}

/** Parses a C-APDU (all four ISO cases, short and extended); throws ApduError(6700) on bad lengths. */
/** SELECT of our application by AID (short APDU, answer up to 256 bytes). */
export function selectCarrierCommand(): Uint8Array {
  return encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: CARRIER_AID, le: 256, extended: false })
}

export function parseCommand(b: Uint8Array): CommandApdu {
  if (b.length < 4) throw new ApduError('APDU shorter than its header', SW.WRONG_LENGTH)
  const [cla, ins, p1, p2] = b as unknown as [number, number, number, number]
  const body = b.subarray(4)
  const n = body.length
  const base = { cla, ins, p1, p2 }
  if (n === 0) return { ...base, data: new Uint8Array(0), extended: false } // case 1
  if (n === 1) return { ...base, data: new Uint8Array(0), le: body[0] || 256, extended: false } // case 2 short
  const b0 = body[0] as number
  if (b0 !== 0) {
    // short case 3 or 4
    if (n === 1 + b0) return { ...base, data: body.subarray(1), extended: false }
    if (n === 2 + b0) return { ...base, data: body.subarray(1, 1 + b0), le: body[1 + b0] || 256, extended: false }
    throw new ApduError(`Lc ${b0} does not match ${n - 1} bytes`, SW.WRONG_LENGTH)
  }
  if (n === 3)
    return { ...base, data: new Uint8Array(0), le: ((body[1] as number) << 8) | (body[2] as number) || 65536, extended: true } // case 2 extended
  if (n < 4) throw new ApduError('truncated extended length', SW.WRONG_LENGTH)
  const lc = ((body[1] as number) << 8) | (body[2] as number)
  if (lc === 0) throw new ApduError('extended Lc of 0', SW.WRONG_LENGTH)
  if (n === 3 + lc) return { ...base, data: body.subarray(3), extended: true }
  if (n === 5 + lc) {
    const le = ((body[3 + lc] as number) << 8) | (body[4 + lc] as number)
    return { ...base, data: body.subarray(3, 3 + lc), le: le || 65536, extended: true }
  }
  throw new ApduError(`extended Lc ${lc} does not match ${n - 3} bytes`, SW.WRONG_LENGTH)
}

export function encodeResponse(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2)
  out.set(data)
  out[data.length] = sw >> 8
  out[data.length + 1] = sw & 0xff
  return out
}

export function parseResponse(r: Uint8Array): { data: Uint8Array; sw: number } {
  if (r.length < 2) throw new ApduError('R-APDU shorter than its status word', SW.WRONG_LENGTH)
  return { data: r.subarray(0, r.length - 2), sw: ((r[r.length - 2] as number) << 8) | (r[r.length - 1] as number) }
}
