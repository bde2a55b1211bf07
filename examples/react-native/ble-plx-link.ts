/**
 * A Link over react-native-ble-plx, the phone as the BLE central, speaking the project's GATT
 * profile (adapters/ble/profile.ts): frames go to the peripheral as ATT writes without response,
 * come back as notifications, one frame per ATT packet, sized to the negotiated MTU. The core
 * (createTransport) does the chunking, acknowledgements and resumption; this only moves frames.
 * ble-plx speaks base64 strings, frames are bytes: converted here with @scure/base (the core's own).
 */
import { base64 } from '@scure/base'
import { FrameTooLargeError, type Link, LinkClosedError, LinkDownError, throwIfAborted } from 'didcomm-carrier'
import { CARRIER_PROFILE, parseBleEndpoint } from 'didcomm-carrier/ble/web'
import type { BleManager, Device, Subscription } from 'react-native-ble-plx'

/** The BleManager calls this Link makes: a real `new BleManager()`, or a fake in a unit test. */
export type BlePlx = Pick<
  BleManager,
  | 'connectToDevice'
  | 'discoverAllServicesAndCharacteristicsForDevice'
  | 'requestMTUForDevice'
  | 'monitorCharacteristicForDevice'
  | 'writeCharacteristicWithoutResponseForDevice'
  | 'onDeviceDisconnected'
  | 'cancelDeviceConnection'
>

/** ATT's smallest MTU (23) less its 3-byte header, and the largest attribute value. */
const MIN_FRAME = 20
const MAX_FRAME = 512

/** Bytes per frame on a connection of this ATT MTU: one write or notification carries MTU − 3. */
export function frameSizeFor(attMtu: number): number {
  return Math.max(MIN_FRAME, Math.min(MAX_FRAME, Math.floor(attMtu) - 3))
}

export const toBase64 = (frame: Uint8Array): string => base64.encode(frame)
export const fromBase64 = (value: string): Uint8Array => base64.decode(value)

export class BlePlxLink implements Link {
  readonly duplex = true
  private readonly handlers = new Set<(frame: Uint8Array) => void>()
  private readonly subscriptions: Subscription[] = []
  private writing: Promise<unknown> = Promise.resolve()
  private up = true
  private closed = false

  private constructor(
    private readonly ble: BlePlx,
    readonly deviceId: string,
    /** Bytes per frame: the ATT MTU the phone negotiated, less 3. */
    readonly mtu: number,
  ) {}

  /**
   * Connects to a peripheral serving our profile (its id from `findPeripheral` or a scan), asks for
   * an ATT MTU of 517 (Android negotiates it, iOS picks its own: the answer is what counts),
   * discovers the service and subscribes to the notify characteristic.
   */
  static async connect(ble: BlePlx, deviceId: string): Promise<BlePlxLink> {
    await ble.connectToDevice(deviceId)
    await ble.discoverAllServicesAndCharacteristicsForDevice(deviceId)
    const device = await ble.requestMTUForDevice(deviceId, CARRIER_PROFILE.requestedMtu)
    const link = new BlePlxLink(ble, deviceId, frameSizeFor(device.mtu))
    link.subscriptions.push(
      ble.monitorCharacteristicForDevice(deviceId, CARRIER_PROFILE.service, CARRIER_PROFILE.notify, (error, c) => {
        if (!error && c?.value) link.deliver(fromBase64(c.value))
      }),
      ble.onDeviceDisconnected(deviceId, () => {
        link.up = false
      }),
    )
    return link
  }

  /** Resolves when the native side took the write (its queue is the backpressure); one write at a time. */
  send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    const write = this.writing.then(async () => {
      throwIfAborted(signal)
      if (this.closed) throw new LinkClosedError('the BLE link is closed')
      if (!this.up) throw new LinkDownError(`${this.deviceId} disconnected`)
      if (frame.length > this.mtu) throw new FrameTooLargeError(`frame of ${frame.length} bytes, the link carries ${this.mtu}`)
      await this.ble.writeCharacteristicWithoutResponseForDevice(
        this.deviceId,
        CARRIER_PROFILE.service,
        CARRIER_PROFILE.write,
        toBase64(frame),
      )
    })
    this.writing = write.catch(() => {})
    return write
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const s of this.subscriptions.splice(0)) s.remove()
    this.handlers.clear()
    if (this.up) await this.ble.cancelDeviceConnection(this.deviceId).catch(() => {})
    this.up = false
  }

  private deliver(frame: Uint8Array): void {
    if (!this.closed) for (const h of this.handlers) h(frame)
  }
}

/**
 * Scans for a peripheral serving the endpoint's service; with a token (`ble://<uuid>?token=T`
 * from an invitation), only the one whose scan response carries it as service data.
 */
export function findPeripheral(
  ble: Pick<BleManager, 'startDeviceScan' | 'stopDeviceScan'>,
  endpoint: string,
  signal?: AbortSignal,
): Promise<Device> {
  const { service, token } = parseBleEndpoint(endpoint)
  return new Promise((resolve, reject) => {
    const stop = (settle: () => void) => void ble.stopDeviceScan().finally(settle)
    signal?.addEventListener('abort', () => stop(() => reject(signal.reason)), { once: true })
    void ble
      .startDeviceScan([service], null, (error, device) => {
        if (error) return stop(() => reject(error))
        const data = device?.serviceData?.[service]
        if (!device || (token && (!data || new TextDecoder().decode(fromBase64(data)) !== token))) return
        stop(() => resolve(device))
      })
      .catch(reject)
  })
}
