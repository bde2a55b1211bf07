import type { CDPSession } from 'playwright-core'
import { profileUuids } from '../../../adapters/ble/profile.js'
import type { Link } from '../../../src/transport.js'

const CCCD = '00002902-0000-1000-8000-00805f9b34fb'
/** Longest a read of the notify characteristic is held open waiting for a frame from Node. */
const READ_HOLD_MS = 100

type Send = (method: string, params?: object) => Promise<Record<string, unknown>>

export interface EmulatedWrite {
  bytes: number
  writeType: string
}

/**
 * Our GATT profile (or the DIF/Animo one) on Chromium's BluetoothEmulation (the browser CDP session), as a Link the test
 * feeds into a real core Transport: what the page's central writes arrives here as wire frames.
 * The domain has no command to push a notification, so frames from Node to the page go out as the
 * answers to reads the test page keeps pending on the notify characteristic (a read's answer fires
 * the same 'characteristicvaluechanged' event a notification does).
 */
export class EmulatedPeripheral implements Link {
  readonly duplex = true
  readonly mtu = 182
  readonly writes: EmulatedWrite[] = []
  readonly operations: string[] = []
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private readonly outbox: Uint8Array[] = []
  private wakeRead: (() => void) | undefined
  private writeId = ''
  private notifyId = ''
  private constructor(
    private readonly cdp: CDPSession,
    readonly address: string,
    private readonly write: { write?: boolean; writeWithoutResponse?: boolean },
    private readonly withNotify: boolean,
    private readonly profile: 'carrier' | 'dif',
  ) {}

  private get send_(): Send {
    return this.cdp.send.bind(this.cdp) as unknown as Send
  }

  /** A peripheral with our service; `write` says which write properties its write characteristic offers. */
  static async create(
    cdp: CDPSession,
    o: {
      address: string
      write: { write?: boolean; writeWithoutResponse?: boolean }
      withNotify?: boolean
      profile?: 'carrier' | 'dif'
    },
  ): Promise<EmulatedPeripheral> {
    const p = new EmulatedPeripheral(cdp, o.address, o.write, o.withNotify !== false, o.profile ?? 'carrier')
    const send = p.send_
    cdp.on('BluetoothEmulation.gattOperationReceived' as never, p.onGatt as never)
    cdp.on('BluetoothEmulation.characteristicOperationReceived' as never, p.onCharacteristic as never)
    cdp.on('BluetoothEmulation.descriptorOperationReceived' as never, p.onDescriptor as never)
    await send('BluetoothEmulation.simulatePreconnectedPeripheral', {
      address: o.address,
      name: 'carrier',
      manufacturerData: [],
      knownServiceUuids: [profileUuids(p.profile).service],
    })
    await p.addProfile()
    return p
  }

  /** Our service and its characteristics (again after a disconnection: Chromium drops the attributes then). */
  private async addProfile(): Promise<void> {
    const uuids = profileUuids(this.profile)
    const { serviceId } = await this.send_('BluetoothEmulation.addService', {
      address: this.address,
      serviceUuid: uuids.service,
    })
    const w = await this.send_('BluetoothEmulation.addCharacteristic', {
      serviceId,
      characteristicUuid: uuids.write,
      properties: this.write,
    })
    this.writeId = w.characteristicId as string
    if (this.withNotify !== false) {
      // 'read' is there only for the test's stand-in for notifications (see the class comment)
      const n = await this.send_('BluetoothEmulation.addCharacteristic', {
        serviceId,
        characteristicUuid: uuids.toCentral,
        // the dif layout's characteristic is readable and indicates anyway
        properties: this.profile === 'dif' ? { notify: true, indicate: true, read: true } : { notify: true, read: true },
      })
      this.notifyId = n.characteristicId as string
      await this.send_('BluetoothEmulation.addDescriptor', { characteristicId: this.notifyId, descriptorUuid: CCCD })
    }
  }

  private readonly onGatt = (e: { address: string; type: string }) => {
    if (e.address !== this.address) return
    this.operations.push(e.type)
    void this.send_('BluetoothEmulation.simulateGATTOperationResponse', { ...e, code: 0 }).catch(() => {})
  }

  private readonly onDescriptor = (e: { descriptorId: string; type: string }) => {
    this.operations.push(`descriptor-${e.type}`)
    void this.send_('BluetoothEmulation.simulateDescriptorOperationResponse', {
      descriptorId: e.descriptorId,
      type: e.type,
      code: 0,
    }).catch(() => {})
  }

  private readonly onCharacteristic = (e: { characteristicId: string; type: string; data?: string; writeType?: string }) => {
    if (e.characteristicId !== this.writeId && e.characteristicId !== this.notifyId) return
    if (e.type === 'read') return void this.answerRead(e.characteristicId)
    if (e.type !== 'write') this.operations.push(e.type)
    const respond = () =>
      this.send_('BluetoothEmulation.simulateCharacteristicOperationResponse', {
        characteristicId: e.characteristicId,
        type: e.type,
        code: 0,
      }).catch(() => {})
    if (e.type === 'write') {
      const frame = new Uint8Array(Buffer.from(e.data ?? '', 'base64'))
      this.writes.push({ bytes: frame.length, writeType: e.writeType ?? '' })
      for (const h of this.handlers) h(frame)
      // a write without response has nobody waiting for an answer
      if (e.writeType === 'write-without-response') return
    }
    void respond()
  }

  private async answerRead(characteristicId: string): Promise<void> {
    if (this.outbox.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, READ_HOLD_MS)
        this.wakeRead = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.wakeRead = undefined
    }
    const frame = this.outbox.shift() ?? new Uint8Array(0)
    await this.send_('BluetoothEmulation.simulateCharacteristicOperationResponse', {
      characteristicId,
      type: 'read',
      code: 0,
      data: Buffer.from(frame).toString('base64'),
    }).catch(() => {})
  }

  /**
   * Drops the GATT connection the way a peripheral walking away would, and puts the profile back
   * for the reconnection. Do it while no read or write with response is pending: Chromium 156 then
   * never reports the disconnection to the page (the operation and the page's next writes hang).
   */
  async disconnect(): Promise<void> {
    await this.send_('BluetoothEmulation.simulateGATTDisconnection', { address: this.address })
    await this.addProfile()
  }

  async send(frame: Uint8Array): Promise<void> {
    this.outbox.push(frame.slice())
    this.wakeRead?.()
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  /** Stops answering (the emulation reuses ids after it is enabled again). */
  async close(): Promise<void> {
    this.handlers.clear()
    this.cdp.off('BluetoothEmulation.gattOperationReceived' as never, this.onGatt as never)
    this.cdp.off('BluetoothEmulation.characteristicOperationReceived' as never, this.onCharacteristic as never)
    this.cdp.off('BluetoothEmulation.descriptorOperationReceived' as never, this.onDescriptor as never)
  }
}
