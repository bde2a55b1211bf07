import {
  AbortError,
  CarrierError,
  FrameTooLargeError,
  type Link,
  LinkClosedError,
  LinkDownError,
  MessageTooLargeError,
} from '../../src/transport.js'
import { EomAssembler, eomChunks } from './eom.js'
import { profileUuids } from './profile.js'

// Browser-only: Web Bluetooth (Chrome/Edge on desktop and Android). No Node imports here.
// The few Web Bluetooth types this file touches (TypeScript's DOM library has none).
export interface WebBluetoothCharacteristic extends EventTarget {
  readonly uuid: string
  readonly properties: { readonly write: boolean; readonly writeWithoutResponse: boolean; readonly notify: boolean }
  readonly value?: DataView | null
  writeValueWithoutResponse(value: BufferSource): Promise<void>
  writeValueWithResponse(value: BufferSource): Promise<void>
  startNotifications(): Promise<WebBluetoothCharacteristic>
}
export interface WebBluetoothService {
  getCharacteristic(uuid: string): Promise<WebBluetoothCharacteristic>
}
export interface WebBluetoothServer {
  readonly connected: boolean
  connect(): Promise<WebBluetoothServer>
  disconnect(): void
  getPrimaryService(uuid: string): Promise<WebBluetoothService>
}
export interface WebBluetoothDevice extends EventTarget {
  readonly id: string
  readonly name?: string
  readonly gatt?: WebBluetoothServer
}
export interface WebBluetooth {
  requestDevice(options: { filters: { services: string[] }[]; optionalServices?: string[] }): Promise<WebBluetoothDevice>
}

/** The smallest ATT MTU (23) minus the 3-byte ATT header: fits any connection. */
export const MIN_BLE_FRAME = 20
/** The largest attribute value (and so the largest frame) ATT allows. */
export const MAX_BLE_FRAME = 512

/** dif profile: the largest frame handed to the core (each is one EOM-ended message), as in GattLink. */
const DIF_FRAME = 64 * 1024

export interface WebBluetoothOptions {
  /**
   * GATT profiles to look for, in order of preference: 'carrier' (ours, one frame per ATT packet)
   * and/or 'dif' (the DIF/Animo layout: messages in chunks ended by EOM; send whole envelopes with
   * `sendMessage`). Default ['carrier'].
   */
  profiles?: ('carrier' | 'dif')[]
  /** dif profile: the largest message accepted from the peer. Default 16 MiB. */
  maxMessageBytes?: number
  /** dif profile: called when the peer sent a message over `maxMessageBytes` (it is dropped). */
  onRefused?: (error: CarrierError) => void
  /** The Web Bluetooth API; default `navigator.bluetooth`. */
  bluetooth?: WebBluetooth
  /**
   * Bytes per frame (one ATT write). Web Bluetooth never tells the page the negotiated ATT MTU, so
   * the default, 'auto', starts at 20 (fits the minimum MTU of 23: always safe) and grows to the
   * largest notification the peer sent (a notification of n bytes proves an ATT MTU of n + 3; our
   * peripheral sizes its frames to the MTU it negotiated), up to `maxFrameSize`. A number fixes the
   * size, e.g. 182 where the platform is known to negotiate at least 185 (see the README).
   */
  frameSize?: number | 'auto'
  /** 'auto' frame size: the most it grows to. Default 512. */
  maxFrameSize?: number
  /** Reconnect when the connection drops (the same Link object comes back up). Default true. */
  reconnect?: boolean
  /** Reconnect attempts before the link gives up and closes. Default 20 (backoff 100 ms → 2 s). */
  maxReconnectAttempts?: number
}

function checkSize(name: string, size: number): number {
  if (!Number.isInteger(size) || size < MIN_BLE_FRAME || size > MAX_BLE_FRAME)
    throw new CarrierError(
      'ERR_INVALID_OPTION',
      `${name} must be 'auto' or an integer from ${MIN_BLE_FRAME} to ${MAX_BLE_FRAME}, got ${size}`,
    )
  return size
}

/** Checked before the chooser shows: a bad option should not cost the user a pick. */
function frameOptions(o: WebBluetoothOptions): { auto: boolean; frame: number; maxFrame: number } {
  const size = o.frameSize ?? 'auto'
  return {
    auto: size === 'auto',
    frame: size === 'auto' ? MIN_BLE_FRAME : checkSize('frameSize', size),
    maxFrame: checkSize('maxFrameSize', o.maxFrameSize ?? MAX_BLE_FRAME),
  }
}

export type WriteType = 'without-response' | 'with-response'

/**
 * The central side as a Link in a web page: asks the user to pick a peripheral offering our GATT
 * service (the browser's chooser), connects, writes frames with the write type the characteristic
 * offers (without response when offered) and gets the other direction as notifications. When the
 * connection drops (`gattserverdisconnected`) sends reject with ERR_LINK_DOWN and the link
 * reconnects underneath; the core resumes the transfer by its id on the same Link object.
 */
export class WebBluetoothLink implements Link {
  readonly duplex = true
  private current: 'carrier' | 'dif' = 'carrier'
  private frame: number
  private readonly auto: boolean
  private readonly maxFrame: number
  private writer: WebBluetoothCharacteristic | undefined
  private reader: WebBluetoothCharacteristic | undefined
  private writing: Promise<unknown> = Promise.resolve()
  private readonly handlers = new Set<(frame: Uint8Array) => void>()
  private readonly stateHandlers = new Set<(up: boolean, reason: string) => void>()
  private up = false
  private closed = false
  private reconnecting: Promise<void> | undefined
  private readonly assembler: EomAssembler

  private constructor(
    readonly device: WebBluetoothDevice,
    private readonly o: WebBluetoothOptions,
  ) {
    const { auto, frame, maxFrame } = frameOptions(o)
    this.auto = auto
    this.frame = frame
    this.maxFrame = maxFrame
    const max = o.maxMessageBytes ?? 16 * 1024 * 1024
    this.assembler = new EomAssembler(
      max,
      (m) => this.deliver(m),
      (n) => o.onRefused?.(new MessageTooLargeError(`the peer sent a message of ${n}+ bytes; the limit is ${max}`)),
    )
  }

  /**
   * The frame size the core uses: one ATT write (fixed, or 'auto': what the peer's notifications
   * proved the connection carries); on the dif profile a message bound (each frame is one message).
   */
  get mtu(): number {
    return this.current === 'dif' ? DIF_FRAME : this.frame
  }

  /** The profile of the current connection ('carrier' until connected). */
  get profile(): 'carrier' | 'dif' {
    return this.current
  }

  /** Bytes per ATT write now (the chunk size on the dif profile). */
  get chunkSize(): number {
    return this.frame
  }

  /** Shows the browser's device chooser (call it from a user gesture, e.g. a click), then connects. */
  static async request(o: WebBluetoothOptions = {}): Promise<WebBluetoothLink> {
    const bluetooth = o.bluetooth ?? (globalThis.navigator as unknown as { bluetooth?: WebBluetooth })?.bluetooth
    if (!bluetooth)
      throw new CarrierError(
        'ERR_BLE_NO_WEB_BLUETOOTH',
        'this browser has no Web Bluetooth (Chrome or Edge, over HTTPS or http://localhost, are needed)',
      )
    frameOptions(o)
    let device: WebBluetoothDevice
    try {
      const services = (o.profiles ?? ['carrier']).map((p) => profileUuids(p).service)
      device = await bluetooth.requestDevice({ filters: services.map((s) => ({ services: [s] })), optionalServices: services })
    } catch (err) {
      // NotFoundError: the user closed the chooser, or no device matched
      throw new CarrierError('ERR_BLE_PEER_NOT_FOUND', `no peripheral chosen: ${String(err)}`, { cause: err })
    }
    return WebBluetoothLink.connect(device, o)
  }

  /** Connects to a device the page already has (from requestDevice or getDevices). */
  static async connect(device: WebBluetoothDevice, o: WebBluetoothOptions = {}): Promise<WebBluetoothLink> {
    const link = new WebBluetoothLink(device, o)
    device.addEventListener('gattserverdisconnected', link.onDisconnected)
    try {
      await link.attach()
    } catch (err) {
      await link.close()
      throw err
    }
    return link
  }

  get isUp(): boolean {
    return this.up
  }

  /** The write type the characteristic offers: without response when it can, else with response. */
  get writeType(): WriteType | undefined {
    const p = this.writer?.properties
    return p === undefined ? undefined : p.writeWithoutResponse ? 'without-response' : 'with-response'
  }

  /** Called with (true) when the connection is up, (false, reason) when it drops. Returns an unsubscribe. */
  onState(handler: (up: boolean, reason: string) => void): () => void {
    this.stateHandlers.add(handler)
    return () => this.stateHandlers.delete(handler)
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async send(frame: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortError(signal.reason)
    if (frame.length > this.mtu) throw new FrameTooLargeError(`a frame of ${frame.length} bytes; the link carries ${this.mtu}`)
    if (this.profile === 'dif') return this.sendMessage(frame)
    return this.queue(async () => this.write(frame))
  }

  /** dif profile: one whole message (any size) as the DIF text says: chunks, then `EOM`. */
  sendMessage(message: Uint8Array): Promise<void> {
    return this.queue(async () => {
      for (const chunk of eomChunks(message, this.frame)) await this.write(chunk)
    })
  }

  /** Web Bluetooth allows one GATT operation at a time: writes (and a message's chunks) queue. */
  private queue(job: () => Promise<void>): Promise<void> {
    const run = this.writing.then(job)
    this.writing = run.catch(() => {})
    return run
  }

  private async write(frame: Uint8Array): Promise<void> {
    if (this.closed) throw new LinkClosedError()
    const w = this.writer
    if (!this.up || !w) throw new LinkDownError('the Bluetooth connection is down')
    // a copy: the core may reuse its buffer, and a view into a larger buffer must not send the rest
    const value = frame.slice()
    try {
      if (w.properties.writeWithoutResponse) await w.writeValueWithoutResponse(value)
      else await w.writeValueWithResponse(value)
    } catch (err) {
      // A write that fails because the connection went is "down", not a failure of the transfer.
      if (!this.up || !this.device.gatt?.connected) throw new LinkDownError('the Bluetooth connection dropped', { cause: err })
      throw new CarrierError('ERR_BLE_WRITE', `GATT write of ${value.length} bytes failed: ${String(err)}`, { cause: err })
    }
  }

  /** GATT connect, find our service's two characteristics, subscribe to notifications. */
  private async attach(): Promise<void> {
    const gatt = this.device.gatt
    if (!gatt) throw new CarrierError('ERR_BLE_PROFILE', 'the device has no GATT server')
    let server: WebBluetoothServer
    try {
      server = await gatt.connect()
    } catch (err) {
      throw new CarrierError('ERR_BLE_CONNECT', String(err), { cause: err })
    }
    let writer: WebBluetoothCharacteristic | undefined
    let reader: WebBluetoothCharacteristic | undefined
    let profile: 'carrier' | 'dif' | undefined
    const tried: string[] = []
    for (const name of this.o.profiles ?? ['carrier']) {
      const uuids = profileUuids(name)
      try {
        const service = await server.getPrimaryService(uuids.service)
        writer = await service.getCharacteristic(uuids.write)
        reader = await service.getCharacteristic(uuids.toCentral)
        profile = name
        break
      } catch (err) {
        tried.push(`${name}: ${String(err)}`)
      }
    }
    if (!writer || !reader || !profile)
      throw new CarrierError('ERR_BLE_PROFILE', `the peripheral lacks the profile (${tried.join('; ')})`)
    if (!writer.properties.write && !writer.properties.writeWithoutResponse)
      throw new CarrierError('ERR_BLE_PROFILE', 'the write characteristic can be written neither with nor without response')
    this.reader?.removeEventListener('characteristicvaluechanged', this.onValue)
    reader.addEventListener('characteristicvaluechanged', this.onValue)
    await reader.startNotifications()
    if (this.closed) return
    this.writer = writer
    this.reader = reader
    this.current = profile
    this.assembler.reset()
    this.setState(true, 'connected')
  }

  private readonly onValue = (event: Event) => {
    const v = (event.target as WebBluetoothCharacteristic).value
    if (!v || v.byteLength === 0) return
    const frame = new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))
    if (this.auto && frame.length > this.frame) this.frame = Math.min(frame.length, this.maxFrame)
    if (this.profile === 'dif') this.assembler.push(frame)
    else this.deliver(frame)
  }

  private deliver(frame: Uint8Array): void {
    for (const h of this.handlers) h(frame)
  }

  private readonly onDisconnected = () => {
    this.setState(false, 'the peripheral disconnected')
    if (this.closed || this.o.reconnect === false) return
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = undefined
    })
  }

  private async reconnectLoop(): Promise<void> {
    let delay = 100
    const max = this.o.maxReconnectAttempts ?? 20
    for (let attempt = 0; attempt < max && !this.closed && !this.up; attempt++) {
      try {
        await this.attach()
        return
      } catch {
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 2000)
      }
    }
    if (!this.up) await this.close()
  }

  private setState(up: boolean, reason: string): void {
    if (this.up === up) return
    this.up = up
    for (const h of this.stateHandlers) h(up, reason)
  }

  /** Waits until the link is up (rejects with ERR_LINK_DOWN when `ms` pass first, ERR_LINK_CLOSED once closed). */
  waitUp(ms = 10_000): Promise<void> {
    if (this.up) return Promise.resolve()
    if (this.closed) return Promise.reject(new LinkClosedError())
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off()
        reject(new LinkDownError(`the Bluetooth connection did not come up in ${ms} ms`))
      }, ms)
      const off = this.onState((up) => {
        if (!up) return
        clearTimeout(t)
        off()
        resolve()
      })
    })
  }

  /** Drops the connection (it comes back by itself unless `reconnect: false`). */
  disconnect(): void {
    this.device.gatt?.disconnect()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.device.removeEventListener('gattserverdisconnected', this.onDisconnected)
    this.reader?.removeEventListener('characteristicvaluechanged', this.onValue)
    this.setState(false, 'closed')
    try {
      if (this.device.gatt?.connected) this.device.gatt.disconnect()
    } catch {
      // already gone
    }
  }
}
