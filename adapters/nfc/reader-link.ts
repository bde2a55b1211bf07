import { CarrierError, type Link, LinkClosedError, LinkDownError } from '../../src/transport.js'
import { concatBytes } from '../../src/wire/bytes.js'
import { encodeCommand, parseResponse, SW, selectCarrierCommand } from './apdu.js'
import { CLA_CHAINING, CLA_PROPRIETARY, INS_ENVELOPE, INS_GET_RESPONSE } from './applet.js'

/** One APDU exchange with the card in the field; throws when there is no card (or it left). */
export type Transmit = (capdu: Uint8Array) => Promise<Uint8Array>

export class CardStatusError extends CarrierError {
  constructor(
    readonly sw: number,
    what: string,
  ) {
    super('ERR_CARD_STATUS', `${what}: status ${sw.toString(16).padStart(4, '0')}`)
  }
}

/** A reader (or its link) asked to close could not: an APDU it sent was not answered in time. */
export class NfcCloseTimeoutError extends CarrierError {
  constructor(message: string) {
    super('ERR_NFC_CLOSE_TIMEOUT', message)
  }
}

/** Resolves with true when `p` settled within `ms`, false when it did not. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    void p.finally(() => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * The reader side as a Link over any APDU transport (nfc-pcsc in the adapter, a function in tests):
 * SELECT on every new card, frames up as chained ENVELOPEs, frames down in their answers (GET
 * RESPONSE for the rest), and a poll when idle so the card can talk. Extended APDUs only when both
 * sides announce them; short APDUs otherwise.
 */
export class ApduReaderLink implements Link {
  readonly duplex = true
  readonly mtu: number
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private selected = false
  private maxCommand = 255
  private maxResponse = 256
  private chain: Promise<unknown> = Promise.resolve()
  private timer: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor(
    private readonly transmit: Transmit,
    private readonly o: { extended?: boolean; pollMs?: number; mtu?: number; closeTimeoutMs?: number } = {},
  ) {
    this.mtu = o.mtu ?? 4096
    this.timer = setInterval(() => void this.exchange(new Uint8Array(0)).catch(() => {}), o.pollMs ?? 20)
  }

  async send(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new LinkClosedError()
    await this.exchange(frame)
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  /** The card left the field (the next exchange selects again). */
  cardRemoved(): void {
    this.selected = false
  }

  /**
   * Stops polling, then waits for the APDU in flight (the exchange it belongs to sends no more):
   * whoever closes the reader next never closes it under a transmit. An APDU unanswered within
   * `closeTimeoutMs` (default 10 s) fails the close with NfcCloseTimeoutError.
   */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    this.handlers.clear()
    const ms = this.o.closeTimeoutMs ?? 10_000
    if (!(await settlesWithin(this.chain, ms)))
      throw new NfcCloseTimeoutError(`the card did not answer an APDU within ${ms} ms of closing the link`)
  }

  /** APDU exchanges one at a time, in order. */
  private exchange(frame: Uint8Array): Promise<void> {
    const run = this.chain.then(() => this.doExchange(frame))
    this.chain = run.catch(() => {})
    return run
  }

  /**
   * While data flows, poll again at once instead of at the next tick of the idle timer: the card's
   * answer to a frame (an ACCEPT, acknowledgements, DONE) is made after the APDU that carried the
   * frame was answered, so it waits in the card for the next exchange.
   */
  private kickPending = false
  private kick(): void {
    if (this.kickPending || this.closed) return
    this.kickPending = true
    setImmediate(() => {
      this.kickPending = false
      void this.exchange(new Uint8Array(0)).catch(() => {})
    })
  }

  /** One APDU, unless the link closed meanwhile: a closing link sends nothing more. */
  private tx(capdu: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new LinkClosedError())
    return this.transmit(capdu)
  }

  private async doExchange(frame: Uint8Array): Promise<void> {
    if (this.closed) return
    try {
      if (!this.selected) await this.select()
      const step = this.maxCommand
      let offset = 0
      while (frame.length - offset > step) {
        const r = parseResponse(
          await this.tx(
            encodeCommand({
              cla: CLA_PROPRIETARY | CLA_CHAINING,
              ins: INS_ENVELOPE,
              p1: 0,
              p2: 0,
              data: frame.subarray(offset, offset + step),
              extended: this.extended,
            }),
          ),
        )
        if (r.sw !== SW.OK) throw new CardStatusError(r.sw, 'ENVELOPE (chained)')
        offset += step
      }
      let r = parseResponse(
        await this.tx(
          encodeCommand({
            cla: CLA_PROPRIETARY,
            ins: INS_ENVELOPE,
            p1: 0,
            p2: 0,
            data: frame.subarray(offset),
            le: this.maxResponse,
            extended: this.extended,
          }),
        ),
      )
      const parts: Uint8Array[] = []
      for (;;) {
        if (r.data.length > 0) parts.push(r.data.slice())
        if ((r.sw & 0xff00) === SW.MORE_DATA) {
          r = parseResponse(
            await this.tx(
              encodeCommand({
                cla: CLA_PROPRIETARY,
                ins: INS_GET_RESPONSE,
                p1: 0,
                p2: 0,
                data: new Uint8Array(0),
                le: this.maxResponse,
                extended: this.extended,
              }),
            ),
          )
          continue
        }
        if (r.sw !== SW.OK) throw new CardStatusError(r.sw, 'ENVELOPE')
        break
      }
      if (parts.length > 0) {
        const got = concatBytes(parts)
        for (const h of this.handlers) h(got)
      }
      if (parts.length > 0 || frame.length > 0) this.kick()
    } catch (err) {
      if (err instanceof CardStatusError || err instanceof LinkClosedError) throw err
      this.selected = false
      throw new LinkDownError('no card in the field', { cause: err })
    }
  }

  private get extended(): boolean {
    return this.maxCommand > 255 || this.maxResponse > 256
  }

  private async select(): Promise<void> {
    const r = parseResponse(await this.tx(selectCarrierCommand()))
    if (r.sw !== SW.OK || r.data.length < 6) throw new CardStatusError(r.sw, 'SELECT')
    const cardCommand = ((r.data[1] as number) << 8) | (r.data[2] as number)
    const cardResponse = ((r.data[3] as number) << 8) | (r.data[4] as number)
    const both = (this.o.extended ?? false) && ((r.data[5] as number) & 1) === 1
    this.maxCommand = both ? cardCommand : Math.min(255, cardCommand)
    this.maxResponse = both ? cardResponse : Math.min(256, cardResponse)
    this.selected = true
  }
}
