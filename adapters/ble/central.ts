import { AbortError, CarrierError } from '../../src/transport.js'
import { advertisesToken, stackUuid } from './advertising.js'
import { GattLink, type GattLinkOptions } from './gatt-link.js'
import { createStack, type HciSpec, type Stack, waitPoweredOn } from './hci.js'
import { type BleWriteType, CARRIER_PROFILE, profileUuids } from './profile.js'

export interface CentralOptions extends GattLinkOptions {
  /** An HCI transport (`hci:0`, `uart:/dev/ttyACM0`, `unix:/path`); default $CARRIER_BLE_HCI, else the platform's. */
  hci?: string | HciSpec
  /** A noble instance to use instead (e.g. @abandonware/noble); `hci` is then ignored. */
  noble?: Stack
  /** Connect only to a peripheral advertising this invitation token. */
  token?: string
  /** ATT MTU to ask for. Default 517. */
  mtu?: number
  /** Give up scanning after this long. Default 15 s. */
  scanTimeoutMs?: number
  /** Reconnect when the connection drops (the same Link object comes back up). Default true. */
  reconnect?: boolean
  /**
   * Writes with response (to a peripheral that offers no other): how long to wait for each answer.
   * noble never reports an ATT error answer, so a refused write only shows as this time-out
   * (ERR_BLE_WRITE). Default 10 s.
   */
  writeTimeoutMs?: number
  signal?: AbortSignal
}

export class PeerNotFoundError extends CarrierError {
  constructor(message: string) {
    super('ERR_BLE_PEER_NOT_FOUND', message)
  }
}

/**
 * The central side as a Link (noble): scans for the service (and token), connects asking for an
 * ATT MTU of 517, writes frames (without response when the characteristic offers it, else with
 * response, as Animo's peripherals require) and receives notifications. When the connection
 * drops it reconnects to the same peripheral; the core resumes transfers across it.
 */
export class BleCentralLink extends GattLink {
  private peripheral: Stack
  private writer: Stack
  private reader: Stack
  private writeWith: BleWriteType = 'withoutResponse'
  private readonly stack: Stack
  private readonly ownsStack: boolean
  private readonly o: CentralOptions
  private reconnecting: Promise<void> | undefined

  private constructor(stack: Stack, ownsStack: boolean, o: CentralOptions) {
    super(o)
    this.stack = stack
    this.ownsStack = ownsStack
    this.o = o
  }

  static async connect(o: CentralOptions = {}): Promise<BleCentralLink> {
    const stack = o.noble ?? (await createStack('noble', o.hci))
    const link = new BleCentralLink(stack, o.noble === undefined, o)
    try {
      await waitPoweredOn(stack)
      link.peripheral = await link.scan()
      await link.attach()
    } catch (err) {
      await link.close()
      throw err
    }
    return link
  }

  private scan(): Promise<Stack> {
    const { service } = profileUuids(this.profile)
    const token = this.o.token
    const ms = this.o.scanTimeoutMs ?? 15_000
    return new Promise((resolve, reject) => {
      const stack = this.stack
      const finish = (err: Error | undefined, p?: Stack) => {
        clearTimeout(timer)
        stack.removeListener('discover', onDiscover)
        this.o.signal?.removeEventListener('abort', onAbort)
        stack.stopScanning?.()
        err ? reject(err) : resolve(p)
      }
      const onDiscover = (p: Stack) => {
        const uuids: string[] = (p.advertisement?.serviceUuids ?? []).map(stackUuid)
        if (!uuids.includes(stackUuid(service))) return
        if (token !== undefined && !advertisesToken(p.advertisement, service, token)) return
        finish(undefined, p)
      }
      const onAbort = () => finish(new AbortError(this.o.signal?.reason))
      const timer = setTimeout(
        () =>
          finish(
            new PeerNotFoundError(`no peripheral advertising ${service}${token ? ` with token ${token}` : ''} within ${ms} ms`),
          ),
        ms,
      )
      this.o.signal?.addEventListener('abort', onAbort, { once: true })
      stack.on('discover', onDiscover)
      // Duplicates allowed: a peripheral seen before this scan (or re-advertising) is reported again.
      stack.startScanning([stackUuid(service)], true, (err?: Error) => err && finish(err))
    })
  }

  /** Connects to the known peripheral, negotiates the MTU, finds the characteristics, subscribes. */
  private async attach(): Promise<void> {
    const p = this.peripheral
    const mtu = this.o.mtu ?? CARRIER_PROFILE.requestedMtu
    await new Promise<void>((resolve, reject) =>
      p.connect({ mtu }, (err?: Error) =>
        err ? reject(new CarrierError('ERR_BLE_CONNECT', String(err), { cause: err })) : resolve(),
      ),
    )
    const { service, write, toCentral: incoming } = profileUuids(this.profile)
    const chars: Stack[] = await new Promise((resolve, reject) =>
      p.discoverSomeServicesAndCharacteristics(
        [stackUuid(service)],
        [stackUuid(write), stackUuid(incoming)],
        (err: Error | undefined, _s: unknown, c: Stack[]) => (err ? reject(err) : resolve(c)),
      ),
    )
    this.writer = chars.find((c) => stackUuid(c.uuid) === stackUuid(write))
    this.reader = chars.find((c) => stackUuid(c.uuid) === stackUuid(incoming))
    if (!this.writer || !this.reader)
      throw new CarrierError('ERR_BLE_PROFILE', `the peripheral lacks the ${this.profile} profile's characteristics`)
    const props: string[] = this.writer.properties ?? []
    if (props.includes('writeWithoutResponse')) this.writeWith = 'withoutResponse'
    else if (props.includes('write')) this.writeWith = 'withResponse'
    else
      throw new CarrierError(
        'ERR_BLE_PROFILE',
        `the peripheral's write characteristic ${write} allows no write (properties: ${props.join(', ') || 'none'})`,
      )
    this.reader.removeAllListeners('data')
    this.reader.on('data', (data: Buffer) => this.received(data))
    await new Promise<void>((resolve, reject) => this.reader.subscribe((err?: Error) => (err ? reject(err) : resolve())))
    // the MTU exchange is the first ATT request after connecting: done before discovery answered
    p.once('disconnect', this.onDisconnect)
    this.setUp(p.mtu ?? 23)
  }

  private readonly onDisconnect = () => {
    this.setDown('the peripheral disconnected')
    if (this.closed || this.o.reconnect === false) return
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = undefined
    })
  }

  private async reconnectLoop(): Promise<void> {
    let delay = 50
    while (!this.closed && !this.isUp) {
      try {
        await this.attach()
        return
      } catch {
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 2000)
      }
    }
  }

  /** The write type in use on the current connection (what the peripheral's characteristic offers). */
  get writeType(): BleWriteType {
    return this.writeWith
  }

  protected writeChunk(chunk: Buffer): void | Promise<void> {
    if (this.writeWith === 'withoutResponse') return void this.writer.write(chunk, true)
    const ms = this.o.writeTimeoutMs ?? 10_000
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CarrierError(
              'ERR_BLE_WRITE',
              `no answer to a write with response within ${ms} ms (refused, or the link is gone)`,
            ),
          ),
        ms,
      )
      this.writer.write(chunk, false, (err?: Error) => {
        clearTimeout(timer)
        err ? reject(new CarrierError('ERR_BLE_WRITE', `write with response failed: ${String(err)}`, { cause: err })) : resolve()
      })
    })
  }

  /** Drops the connection (it comes back by itself unless `reconnect: false`). */
  disconnect(): void {
    this.peripheral?.disconnect()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.setDown('closed')
    try {
      this.peripheral?.removeListener('disconnect', this.onDisconnect)
      if (this.peripheral?.state === 'connected') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000)
          this.peripheral.disconnect(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
      if (this.ownsStack) this.stack.stop?.()
    } catch {
      // the adapter may already be gone
    }
  }
}
