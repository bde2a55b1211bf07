import { advertisementData, scanResponseData, stackUuid } from './advertising.js'
import { GattLink, type GattLinkOptions } from './gatt-link.js'
import { createStack, type HciSpec, type Stack, waitPoweredOn } from './hci.js'
import { type BleWriteProperties, CARRIER_PROFILE, profileUuids } from './profile.js'

export interface PeripheralOptions extends GattLinkOptions {
  /** An HCI transport (`hci:0`, `uart:/dev/ttyACM0`, `unix:/path`); default $CARRIER_BLE_HCI, else the platform's. */
  hci?: string | HciSpec
  /** A bleno instance to use instead (e.g. @abandonware/bleno); `hci` is then ignored. */
  bleno?: Stack
  /** Out-of-band invitation token advertised as service data, so the right central connects. */
  token?: string
  /** Local name in the scan response (as much as fits). Default "carrier". */
  name?: string
  /** Largest ATT MTU accepted (bleno caps at 256 unless raised). Default 517. */
  maxMtu?: number
  /**
   * The write types the write characteristic declares. Default: 'withoutResponse' (carrier
   * profile), 'both' (dif profile). 'withResponse' is what Animo's peripherals declare.
   */
  writeTypes?: BleWriteProperties
}

const WRITE_PROPERTIES: Record<BleWriteProperties, string[]> = {
  withoutResponse: ['writeWithoutResponse'],
  withResponse: ['write'],
  both: ['write', 'writeWithoutResponse'],
}

/**
 * The peripheral side as a Link (bleno): advertises the service (and token), takes frames written
 * by the central and sends frames as notifications (dif profile: indications/notifications of the
 * read characteristic). One central at a time; when it goes, the link is down until one subscribes
 * again (advertising restarts by itself).
 */
export class BlePeripheralLink extends GattLink {
  private notify: ((data: Buffer) => void) | undefined
  private readonly stack: Stack
  private readonly ownsStack: boolean

  private constructor(stack: Stack, ownsStack: boolean, o: PeripheralOptions) {
    super(o)
    this.stack = stack
    this.ownsStack = ownsStack
  }

  static async start(o: PeripheralOptions = {}): Promise<BlePeripheralLink> {
    const stack = o.bleno ?? (await createStack('bleno', o.hci))
    const link = new BlePeripheralLink(stack, o.bleno === undefined, o)
    try {
      await link.serve(o)
    } catch (err) {
      await link.close()
      throw err
    }
    return link
  }

  private async serve(o: PeripheralOptions): Promise<void> {
    const stack = this.stack
    await waitPoweredOn(stack)
    if (stack._bindings?._gatt) stack._bindings._gatt.maxMtu = o.maxMtu ?? CARRIER_PROFILE.requestedMtu
    const dif = this.profile === 'dif'
    const uuids = profileUuids(this.profile)
    // bleno ≥ 0.12 passes the connection first; the older API (and @abandonware/bleno) does not.
    const onWriteRequest = (...args: unknown[]) => {
      const withConn = Buffer.isBuffer(args[1])
      const [data, , , callback] = (withConn ? args.slice(1) : args) as [Buffer, number, boolean, (r: number) => void]
      this.received(data)
      callback?.(0)
    }
    const onSubscribe = (...args: unknown[]) => {
      const withConn = typeof args[1] === 'number'
      const [maxValueSize, update] = (withConn ? args.slice(1) : args) as [number, (d: Buffer) => void]
      this.notify = update
      this.setUp(maxValueSize + 3)
    }
    const onUnsubscribe = () => {
      this.notify = undefined
      this.setDown('the central unsubscribed')
    }
    const { PrimaryService, Characteristic } = stack
    const service = new PrimaryService({
      uuid: stackUuid(uuids.service),
      characteristics: [
        new Characteristic({
          uuid: stackUuid(uuids.write),
          properties: WRITE_PROPERTIES[o.writeTypes ?? (dif ? 'both' : 'withoutResponse')],
          onWriteRequest,
        }),
        new Characteristic({
          uuid: stackUuid(uuids.toCentral),
          properties: dif ? ['read', 'notify', 'indicate'] : ['notify'],
          onSubscribe,
          onUnsubscribe,
        }),
      ],
    })
    stack.on('disconnect', this.onDisconnect)
    stack.on('mtuChange', this.onMtuChange)
    await new Promise<void>((resolve, reject) => stack.setServices([service], (err?: Error) => (err ? reject(err) : resolve())))
    await new Promise<void>((resolve, reject) =>
      stack.startAdvertisingWithEIRData(
        advertisementData(uuids.service),
        scanResponseData(uuids.service, o.token, o.name ?? 'carrier'),
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    )
  }

  private readonly onDisconnect = () => {
    this.notify = undefined
    this.setDown('the central disconnected')
  }

  private readonly onMtuChange = (mtu: number) => {
    if (this.isUp) this.attMtu = mtu
  }

  protected writeChunk(chunk: Buffer): void {
    this.notify?.(chunk)
  }

  /** Drops the current central (it may reconnect). */
  disconnect(): void {
    this.stack.disconnect()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.setDown('closed')
    this.stack.removeListener('disconnect', this.onDisconnect)
    this.stack.removeListener('mtuChange', this.onMtuChange)
    try {
      this.stack.stopAdvertising?.()
      this.stack.disconnect?.()
      if (this.ownsStack) {
        this.stack.stop?.()
        // bleno's HCI polls "is the device up?" every second forever, even after stop(): the
        // process would never exit. The poll already scheduled runs once more and ends there.
        const hci = this.stack._bindings?._hci
        if (hci) hci.pollIsDevUp = () => {}
      }
    } catch {
      // the adapter may already be gone
    }
  }
}
