import { CarrierError } from '../../src/transport.js'

/** NFC Forum NDEF: messages of records; URI records (well-known type "U") for invitations. */
export interface NdefRecord {
  /** 1 = NFC Forum well-known, 2 = media type, 4 = external … */
  tnf: number
  type: Uint8Array
  id?: Uint8Array
  payload: Uint8Array
}

export class NdefError extends CarrierError {
  constructor(message: string) {
    super('ERR_NDEF', message)
  }
}

/** URI identifier codes of the NFC Forum URI RTD (the common ones; 0 = no prefix). */
const URI_PREFIXES = ['', 'http://www.', 'https://www.', 'http://', 'https://'] as const

export function uriRecord(uri: string): NdefRecord {
  let code = 0
  for (let i = URI_PREFIXES.length - 1; i > 0; i--) {
    if (uri.startsWith(URI_PREFIXES[i] as string) && (URI_PREFIXES[i] as string).length > (URI_PREFIXES[code] as string).length)
      code = i
  }
  const rest = new TextEncoder().encode(uri.slice((URI_PREFIXES[code] as string).length))
  const payload = new Uint8Array(1 + rest.length)
  payload[0] = code
  payload.set(rest, 1)
  return { tnf: 1, type: Uint8Array.of(0x55), payload }
}

/** The URI of a URI record, or undefined for other records. */
export function recordUri(r: NdefRecord): string | undefined {
  if (r.tnf !== 1 || r.type.length !== 1 || r.type[0] !== 0x55 || r.payload.length < 1) return undefined
  const prefix = URI_PREFIXES[r.payload[0] as number]
  if (prefix === undefined) throw new NdefError(`URI identifier code ${r.payload[0]} is not supported`)
  return prefix + new TextDecoder('utf-8', { fatal: true }).decode(r.payload.subarray(1))
}

export function encodeNdef(records: NdefRecord[]): Uint8Array {
  if (records.length === 0) throw new NdefError('an NDEF message has at least one record')
  const parts: number[] = []
  records.forEach((r, i) => {
    const short = r.payload.length < 256
    const header =
      (i === 0 ? 0x80 : 0) | (i === records.length - 1 ? 0x40 : 0) | (short ? 0x10 : 0) | (r.id ? 0x08 : 0) | (r.tnf & 7)
    parts.push(header, r.type.length)
    if (short) parts.push(r.payload.length)
    else
      parts.push(
        r.payload.length >>> 24,
        (r.payload.length >>> 16) & 0xff,
        (r.payload.length >>> 8) & 0xff,
        r.payload.length & 0xff,
      )
    if (r.id) parts.push(r.id.length)
    parts.push(...r.type, ...(r.id ?? []), ...r.payload)
  })
  return Uint8Array.from(parts)
}

export function decodeNdef(b: Uint8Array): NdefRecord[] {
  const out: NdefRecord[] = []
  let at = 0
  const need = (n: number) => {
    if (at + n > b.length) throw new NdefError('NDEF message truncated')
  }
  for (;;) {
    need(2)
    const header = b[at++] as number
    if (out.length === 0 && !(header & 0x80)) throw new NdefError('first NDEF record lacks the MB flag')
    if (header & 0x20) throw new NdefError('chunked NDEF records are not supported')
    const typeLength = b[at++] as number
    let payloadLength: number
    if (header & 0x10) {
      need(1)
      payloadLength = b[at++] as number
    } else {
      need(4)
      payloadLength =
        (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0
      at += 4
    }
    let idLength = 0
    if (header & 0x08) {
      need(1)
      idLength = b[at++] as number
    }
    need(typeLength + idLength + payloadLength)
    const type = b.slice(at, (at += typeLength))
    const id = idLength ? b.slice(at, (at += idLength)) : undefined
    const payload = b.slice(at, (at += payloadLength))
    out.push(id ? { tnf: header & 7, type, id, payload } : { tnf: header & 7, type, payload })
    if (header & 0x40) break
  }
  if (at !== b.length) throw new NdefError('bytes after the last NDEF record')
  return out
}
