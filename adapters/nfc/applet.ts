import { type Link, LinkClosedError } from '../../src/transport.js'
import { concatBytes } from '../../src/wire/bytes.js'
import { ApduError, CARRIER_AID, encodeResponse, parseCommand, SW } from './apdu.js'

/**
 * The card side (the phone, in host card emulation) as a state machine: C-APDU bytes in, R-APDU
 * bytes out, usable from any HCE host. It is also the card's Link: frames the reader sends arrive on
 * onFrame, frames given to send() wait until the reader polls for them.
 *
 *   SELECT (00 A4 04 00, our AID)        → capabilities: version, max command/response data, extended
 *   ENVELOPE (80 C2 00 00, data)         → one wire frame, chained with CLA bit 0x10 when longer than
 *                                          one command; the answer carries the next card → reader frame
 *                                          (or nothing) — 61xx when more of it remains
 *   GET RESPONSE (80 C0 00 00)           → the rest of that frame
 *
 * Transfer state lives in the core above, so a transfer resumes when the card comes back into the
 * field; only APDU chaining state is reset by a new SELECT. A malformed APDU gets its ISO status word
 * and changes nothing.
 */
export const INS_SELECT = 0xa4
export const INS_ENVELOPE = 0xc2
export const INS_GET_RESPONSE = 0xc0
export const CLA_PROPRIETARY = 0x80
export const CLA_CHAINING = 0x10
export const APPLET_VERSION = 1

export interface AppletOptions {
  /** Largest command data the card accepts in one APDU (extended when > 255). Default 255. */
  maxCommandData?: number
  /** Largest response data per APDU. Default 256 (short). */
  maxResponseData?: number
  /** Largest wire frame in either direction. Default 4096. */
  mtu?: number
}

export class CardApplet implements Link {
  readonly duplex = true
  readonly mtu: number
  private readonly maxCommand: number
  private readonly maxResponse: number
  private selected = false
  private incoming: Uint8Array[] = []
  private incomingBytes = 0
  private readonly outbox: Uint8Array[] = []
  /** The card → reader frame being answered, whole, and how much of it went out. */
  private current: Uint8Array | undefined
  private currentSent = 0
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private closed = false

  constructor(o: AppletOptions = {}) {
    this.maxCommand = o.maxCommandData ?? 255
    this.maxResponse = o.maxResponseData ?? 256
    this.mtu = o.mtu ?? 4096
  }

  /** One APDU exchange: never throws, always answers with a status word. */
  process(capdu: Uint8Array): Uint8Array {
    let c: ReturnType<typeof parseCommand>
    try {
      c = parseCommand(capdu)
    } catch (e) {
      return encodeResponse(new Uint8Array(0), e instanceof ApduError ? e.sw : SW.WRONG_LENGTH)
    }
    if (c.ins === INS_SELECT && c.cla === 0x00) return this.select(c.p1, c.p2, c.data)
    if ((c.cla & ~CLA_CHAINING) !== CLA_PROPRIETARY) return status(SW.CLA_NOT_SUPPORTED)
    if (!this.selected) return status(SW.CONDITIONS_NOT_SATISFIED)
    if (c.ins === INS_ENVELOPE) return this.envelope(c.cla, c.data, c.le)
    if (c.ins === INS_GET_RESPONSE) {
      if (this.incoming.length > 0) return status(SW.LAST_COMMAND_EXPECTED)
      if (!this.current) return status(SW.CONDITIONS_NOT_SATISFIED)
      return this.respond(c.le)
    }
    return status(SW.INS_NOT_SUPPORTED)
  }

  /** The SELECT response: version, max command data (2), max response data (2), flags (bit 0 extended). */
  capabilities(): Uint8Array {
    const ext = this.maxCommand > 255 || this.maxResponse > 256 ? 1 : 0
    return Uint8Array.of(
      APPLET_VERSION,
      this.maxCommand >> 8,
      this.maxCommand & 0xff,
      this.maxResponse >> 8,
      this.maxResponse & 0xff,
      ext,
    )
  }

  private select(p1: number, p2: number, aid: Uint8Array): Uint8Array {
    if (p1 !== 0x04 || p2 !== 0x00) return status(SW.INCORRECT_P1P2)
    if (aid.length !== CARRIER_AID.length || aid.some((b, i) => b !== CARRIER_AID[i])) return status(SW.FILE_NOT_FOUND)
    this.selected = true
    // a new tap: APDU chaining starts over, the transfers above carry on
    this.incoming = []
    this.incomingBytes = 0
    // a frame cut off by the card leaving the field is sent again whole
    if (this.current) this.outbox.unshift(this.current)
    this.current = undefined
    return encodeResponse(this.capabilities(), SW.OK)
  }

  private envelope(cla: number, data: Uint8Array, le: number | undefined): Uint8Array {
    if (data.length > this.maxCommand) return status(SW.WRONG_LENGTH)
    if (this.incomingBytes + data.length > this.mtu) {
      this.incoming = []
      this.incomingBytes = 0
      return status(SW.WRONG_LENGTH)
    }
    if (data.length > 0) {
      this.incoming.push(data.slice())
      this.incomingBytes += data.length
    }
    if (cla & CLA_CHAINING) return status(SW.OK)
    if (this.incomingBytes > 0) {
      const frame = concatBytes(this.incoming)
      this.incoming = []
      this.incomingBytes = 0
      if (!this.closed) for (const h of this.handlers) h(frame)
    }
    if (!this.current) {
      this.current = this.outbox.shift()
      this.currentSent = 0
    }
    return this.respond(le)
  }

  private respond(le: number | undefined): Uint8Array {
    const frame = this.current
    if (!frame) return status(SW.OK)
    const n = Math.min(this.maxResponse, le ?? this.maxResponse, frame.length - this.currentSent)
    const part = frame.subarray(this.currentSent, this.currentSent + n)
    this.currentSent += n
    const rest = frame.length - this.currentSent
    if (rest === 0) {
      this.current = undefined
      return encodeResponse(part, SW.OK)
    }
    return encodeResponse(part, SW.MORE_DATA | Math.min(rest, 255))
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new LinkClosedError()
    this.outbox.push(frame.slice())
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
  }
}

function status(sw: number): Uint8Array {
  return encodeResponse(new Uint8Array(0), sw)
}
