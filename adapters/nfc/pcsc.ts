import { EventEmitter } from 'node:events'
import { CarrierError, LinkClosedError, LinkDownError } from '../../src/transport.js'
import { loadOptional } from '../optional.js'
import { ApduReaderLink, NfcCloseTimeoutError, settlesWithin } from './reader-link.js'

// Our own types for the part of nfc-pcsc 0.8 (no typings of its own) the adapter uses.
interface NfcPcscCard {
  atr?: Buffer
  standard?: string
}
/** @pokusew/pcsclite's CardReader: its native operations run on libuv workers under the reader's mutex. */
type NativeReader = Record<string, unknown>
/** The native operations that take the reader's mutex (and may wait for the card while holding it). */
const MUTEX_OPS = ['_connect', '_disconnect', '_transmit', '_control']

interface NfcPcscReader extends EventEmitter {
  readonly name: string
  readonly reader: NativeReader
  autoProcessing: boolean
  transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>
  close(): void
  on(event: 'card' | 'card.off', l: (card: NfcPcscCard) => void): this
  on(event: 'error', l: (err: Error) => void): this
  on(event: 'end', l: () => void): this
}
interface NfcPcscNfc extends EventEmitter {
  close(): void
  on(event: 'reader', l: (reader: NfcPcscReader) => void): this
  on(event: 'error', l: (err: Error) => void): this
}
interface NfcPcscModule {
  NFC: new (logger?: unknown) => NfcPcscNfc
}

export class NoReaderError extends CarrierError {
  constructor(message: string) {
    super('ERR_NFC_NO_READER', message)
  }
}

/**
 * A PC/SC contactless reader through nfc-pcsc, with its quirks handled:
 * - autoProcessing off: nfc-pcsc's auto-SELECT fails ('error', no 'card') when the SELECT answer
 *   carries more than 38 bytes, so we SELECT ourselves (ApduReaderLink does).
 * - errors nfc-pcsc emits as `emit(err)` (an event named by the error object, which nobody hears)
 *   are turned into 'error' events.
 * - `close()` from inside a 'card' handler deadlocks nfc-pcsc: closing is deferred.
 * - nfc.close() emits an 'error' of its own: listened for and dropped.
 * - the native close takes the reader's mutex, which a connect or transmit holds until the card
 *   answers: closing under one blocks the event loop — for good when the card answers from this
 *   process (VpcdCard). So native operations are counted, none starts once closing began, and the
 *   native close waits until none is in flight.
 */
export class PcscReader extends EventEmitter {
  private card: NfcPcscCard | undefined
  private inFlight = 0
  private idle: (() => void)[] = []
  private closing: Promise<void> | undefined
  /** The readers we did not pick (vpcd brings two): closed with ours, else their threads keep the process alive. */
  private readonly others: NfcPcscReader[] = []

  private constructor(
    private readonly nfc: NfcPcscNfc,
    private readonly reader: NfcPcscReader,
  ) {
    super()
    reader.autoProcessing = false
    this.countNativeOps(reader.reader)
    const emit = reader.emit.bind(reader)
    reader.emit = ((event: unknown, ...args: unknown[]) =>
      event instanceof Error ? emit('error', event) : emit(event as string, ...args)) as typeof reader.emit
    reader.on('card', (card) => {
      this.card = card
      this.emit('card', card)
    })
    reader.on('card.off', (card) => {
      this.card = undefined
      this.emit('card.off', card)
    })
    reader.on('error', (err) => this.emit('reader-error', err))
    reader.on('end', () => {
      this.card = undefined
      this.emit('end')
    })
  }

  /** Waits for a reader whose name matches (any reader when not given); bounded by timeoutMs. */
  static async open(o: { name?: string | RegExp; timeoutMs?: number } = {}): Promise<PcscReader> {
    const { NFC } = await loadOptional<NfcPcscModule>('nfc-pcsc', 'the NFC reader adapter')
    // pcsclite's constructor spins, blocking the event loop, while no pcscd answers: ask first
    const down = await pcscdDown(o.timeoutMs ?? 5000)
    if (down) throw new NoReaderError(down)
    const nfc = new NFC()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        nfc.removeAllListeners('reader')
        nfc.on('error', () => {})
        nfc.close()
        reject(
          new NoReaderError(
            `no PC/SC reader${o.name ? ` matching ${o.name}` : ''} within ${o.timeoutMs ?? 5000} ms (is pcscd running?)`,
          ),
        )
      }, o.timeoutMs ?? 5000)
      nfc.on('error', (err) => {
        clearTimeout(timer)
        reject(new NoReaderError(`PC/SC: ${err.message} (is pcscd running?)`))
      })
      const others: NfcPcscReader[] = []
      nfc.on('reader', (reader) => {
        const match = !o.name || (typeof o.name === 'string' ? reader.name.includes(o.name) : o.name.test(reader.name))
        if (!match) {
          others.push(reader)
          return
        }
        clearTimeout(timer)
        nfc.removeAllListeners('error')
        nfc.on('error', () => {})
        nfc.removeAllListeners('reader')
        const picked = new PcscReader(nfc, reader)
        for (const other of others) picked.adopt(other)
        nfc.on('reader', (other) => picked.adopt(other))
        resolve(picked)
      })
    })
  }

  get name(): string {
    return this.reader.name
  }

  get cardPresent(): boolean {
    return this.card !== undefined
  }

  /** Resolves at the next tap (at once when a card is in the field). */
  waitForCard(timeoutMs = 30_000): Promise<NfcPcscCard> {
    if (this.card) return Promise.resolve(this.card)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('card', on)
        reject(new LinkDownError(`no card within ${timeoutMs} ms`))
      }, timeoutMs)
      const on = (card: NfcPcscCard) => {
        clearTimeout(timer)
        resolve(card)
      }
      this.once('card', on)
    })
  }

  /** One APDU exchange with the card in the field (extended APDUs: answers up to 65538 bytes). */
  async transmit(capdu: Uint8Array): Promise<Uint8Array> {
    if (this.closing) throw new LinkClosedError()
    if (!this.card) throw new LinkDownError('no card in the field')
    const r = await this.reader.transmit(Buffer.from(capdu.buffer, capdu.byteOffset, capdu.length), 65538)
    return new Uint8Array(r.buffer, r.byteOffset, r.length)
  }

  /**
   * The reader side of our applet as a Link: frames go to whichever card is tapped; a card that
   * leaves mid-transfer is selected again on the next tap, and the core resumes the transfer.
   */
  link(o: { extended?: boolean; pollMs?: number; mtu?: number; closeTimeoutMs?: number } = {}): ApduReaderLink {
    const link = new ApduReaderLink((c) => this.transmit(c), o)
    const off = () => link.cardRemoved()
    this.on('card.off', off)
    const close = link.close.bind(link)
    link.close = async () => {
      this.off('card.off', off)
      await close()
    }
    return link
  }

  /**
   * Releases the reader and PC/SC without ever blocking the event loop: no new APDU or connect
   * starts, those in flight settle, then the native close runs (never inside nfc-pcsc's own event
   * handlers). When they do not settle within `timeoutMs` (default 10 s: a card that stopped
   * answering) it rejects with NfcCloseTimeoutError, and releases the reader once they do.
   */
  close(o: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      const ms = o.timeoutMs ?? 10_000
      const released = this.whenIdle().then(() => {
        for (const r of [this.reader, ...this.others]) r.close()
        this.nfc.close()
      })
      if (!(await settlesWithin(released, ms)))
        throw new NfcCloseTimeoutError(
          `the reader still waits for the card after ${ms} ms; it is released when the card answers or leaves`,
        )
      await released
    })()
    return this.closing
  }

  /** A reader we did not pick: quiet (no auto-SELECT, no uncaught 'error' when PC/SC goes away), closed with ours. */
  private adopt(other: NfcPcscReader): void {
    other.autoProcessing = false
    other.on('error', () => {})
    this.countNativeOps(other.reader)
    this.others.push(other)
  }

  /** Resolves on a turn of the event loop of its own (outside nfc-pcsc's handlers) with nothing native in flight. */
  private async whenIdle(): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r))
      if (this.inFlight === 0) return
      await new Promise<void>((r) => this.idle.push(r))
    }
  }

  /** Counts the native operations in flight; once closing, new ones fail at once instead of starting. */
  private countNativeOps(native: NativeReader): void {
    for (const op of MUTEX_OPS) {
      const f = native[op]
      if (typeof f !== 'function') continue
      native[op] = (...args: unknown[]) => {
        const cb = args.pop() as (...r: unknown[]) => void
        if (this.closing) return process.nextTick(cb, new LinkClosedError('the reader is closing'))
        this.inFlight++
        return f.call(native, ...args, (...r: unknown[]) => {
          if (--this.inFlight === 0) for (const r of this.idle.splice(0)) r()
          cb(...r)
        })
      }
    }
  }
}

/**
 * On Linux, pcsc-lite clients reach pcscd through a unix socket ($PCSCLITE_CSOCK_NAME, default
 * /run/pcscd/pcscd.comm). Why no pcscd answers there, or undefined when one does (or on other systems).
 */
async function pcscdDown(timeoutMs: number): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined
  const path = process.env.PCSCLITE_CSOCK_NAME ?? '/run/pcscd/pcscd.comm'
  const { createConnection } = await import('node:net')
  return new Promise((resolve) => {
    const socket = createConnection(path)
    const done = (why: string | undefined) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(why)
    }
    const timer = setTimeout(() => done(`pcscd did not answer at ${path} within ${timeoutMs} ms`), timeoutMs)
    socket.once('connect', () => done(undefined))
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(`pcscd is not running (${err.code} at ${path}): start it (systemctl start pcscd) or apt-get install pcscd`),
    )
  })
}
