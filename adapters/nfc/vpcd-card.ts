import { connect, type Socket } from 'node:net'
import { CarrierError } from '../../src/transport.js'
import type { ApduResponder } from './type4.js'

/** An APDU responder that may answer later (a card that asks someone else first). */
export interface AsyncApduResponder {
  process(capdu: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** ATR of an HCE phone on a contactless reader: nfc-pcsc reports it as TAG_ISO_14443_4. */
export const HCE_ATR = Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01)

/**
 * A virtual contactless card for pcscd's vpcd driver (Debian `vsmartcard-vpcd`): it connects to
 * vpcd's TCP port (35963 = reader "Virtual PCD 00 00"), which is the card entering the field;
 * closing the connection is the card leaving it. The same applet code runs here as on a phone.
 *
 * vpcd protocol: every message is a 2-byte big-endian length and a payload. One-byte payloads are
 * control (0x00 power off, 0x01 power on, 0x02 reset, 0x04 get ATR → answer the ATR); longer ones
 * are C-APDUs, answered with the R-APDU.
 */
export class VpcdCard {
  private socket: Socket | undefined
  /** APDUs answered (control messages not counted). */
  apdus = 0

  constructor(
    private readonly card: ApduResponder | AsyncApduResponder,
    private readonly o: { host?: string; port?: number; atr?: Uint8Array } = {},
  ) {}

  get inField(): boolean {
    return this.socket !== undefined && !this.socket.destroyed
  }

  /** Enter the field: connect to vpcd. */
  insert(): Promise<void> {
    if (this.inField) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.o.host ?? '127.0.0.1', port: this.o.port ?? 35963, noDelay: true })
      let buf = Buffer.alloc(0)
      // vpcd asks one thing at a time; answers that come later still go out in order
      let answered: Promise<void> = Promise.resolve()
      const reply = (r: Uint8Array | undefined) => {
        if (!r) return
        const out = Buffer.allocUnsafe(2 + r.length)
        out.writeUInt16BE(r.length, 0)
        out.set(r, 2)
        s.write(out)
      }
      s.once('connect', () => {
        this.socket = s
        resolve()
      })
      s.once('error', (err) => {
        if (this.socket !== s)
          reject(new CarrierError('ERR_VPCD_UNREACHABLE', `vpcd at port ${this.o.port ?? 35963}: ${err.message}`))
      })
      s.on('data', (d) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d
        while (buf.length >= 2) {
          const n = buf.readUInt16BE(0)
          if (buf.length < 2 + n) break
          const msg = buf.subarray(2, 2 + n)
          buf = buf.subarray(2 + n)
          const r = this.answer(new Uint8Array(msg))
          if (r instanceof Promise) answered = answered.then(() => r).then(reply, () => void s.destroy())
          else answered = answered.then(() => reply(r))
        }
      })
      s.on('close', () => {
        if (this.socket === s) this.socket = undefined
      })
    })
  }

  /** Leave the field: close the connection (pcscd notices within its 400 ms presence poll). */
  remove(): void {
    this.socket?.destroy()
    this.socket = undefined
  }

  private answer(msg: Uint8Array): Uint8Array | Promise<Uint8Array> | undefined {
    if (msg.length === 1) return msg[0] === 0x04 ? (this.o.atr ?? HCE_ATR) : undefined
    this.apdus++
    return this.card.process(msg)
  }
}
