import { describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import { createStack, type Stack, waitPoweredOn } from '../../adapters/ble/hci.js'
import { BlePeripheralLink } from '../../adapters/ble/peripheral.js'
import { CARRIER_PROFILE } from '../../adapters/ble/profile.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { haveBtvirt } from '../support/btvirt.js'
import { useBtvirt } from '../support/use-btvirt.js'

/**
 * Peers written here from the DIF "DIDComm over Bluetooth" text alone, with the bare stacks:
 * service d2f195b6-…, the central writes to c3103ded-…, the peripheral updates e6e97879-…; a message
 * is JSON bytes in chunks of the lowest MTU, then a chunk "EOM".
 */
const SERVICE = 'd2f195b62e804ab0be2432ebe761352f'
const WRITE = 'c3103dedafd7477cb2792ad264e20e74'
const READ = 'e6e97879780a4c9bb4e6dcae3793a3e8'

function collectUntilEom(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = []
  return (chunk) => {
    if (chunk.toString() === 'EOM') {
      onMessage(Buffer.concat(parts).toString('utf8'))
      parts = []
    } else parts.push(Buffer.from(chunk))
  }
}

function* chunksOf(message: string, size: number): Generator<Buffer> {
  const bytes = Buffer.from(message, 'utf8')
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size)
  yield Buffer.from('EOM')
}

// shaped as a JWE (a bare frame that is not a whole DIDComm envelope is dropped as garbage)
const envelope = (text: string) =>
  JSON.stringify({
    protected: 'eyJ0eXAiOiJhcHBsaWNhdGlvbi9kaWRjb21tLWVuY3J5cHRlZCtqc29uIn0',
    recipients: [{ header: { kid: 'did:example:bob#key-1' }, encrypted_key: 'a2V5' }],
    iv: 'aXY',
    ciphertext: text.repeat(200),
    tag: 'dGFn',
  })

describe.skipIf(!haveBtvirt())('BLE compatibility profile (DIF/Animo layout)', () => {
  const bt = useBtvirt()

  it('our central ↔ a DIF peripheral written from the text: a message each way', { timeout: 30_000 }, async () => {
    const bleno: Stack = await createStack('bleno', bt.hci)
    await waitPoweredOn(bleno)
    const fromUs: string[] = []
    let notify: ((b: Buffer) => void) | undefined
    let max = 20
    const reply = envelope('reply-from-dif-peer ')
    const feed = collectUntilEom((m) => {
      fromUs.push(m)
      for (const c of chunksOf(reply, max)) notify?.(c)
    })
    bleno.setServices([
      new bleno.PrimaryService({
        uuid: SERVICE,
        characteristics: [
          new bleno.Characteristic({
            uuid: WRITE,
            properties: ['write', 'writeWithoutResponse'],
            onWriteRequest: (_c: unknown, data: Buffer, _o: number, _w: boolean, cb: (r: number) => void) => {
              feed(data)
              cb(0)
            },
          }),
          new bleno.Characteristic({
            uuid: READ,
            properties: ['read', 'notify', 'indicate'],
            onSubscribe: (_c: unknown, maxValueSize: number, update: (b: Buffer) => void) => {
              max = maxValueSize
              notify = update
            },
          }),
        ],
      }),
    ])
    bleno.startAdvertising('dif-peer', [SERVICE])
    const central = await BleCentralLink.connect({ hci: bt.hci, profile: 'dif' })
    const transport = createTransport(central)
    try {
      const inbox = transport.receive()[Symbol.asyncIterator]()
      const mine = envelope('from-carrier ')
      await central.sendMessage(new TextEncoder().encode(mine))
      const got = await inbox.next()
      expect(fromUs).toEqual([mine])
      expect(new TextDecoder().decode(got.value?.data)).toBe(reply)
      expect(got.value?.mediaType).toBe('application/didcomm-encrypted+json')
      expect(max).toBe(253) // a stock bleno peer caps the ATT MTU at 256: our central follows it
    } finally {
      await transport.close()
      bleno.stop()
    }
  })

  it('a DIF central written from the text ↔ our peripheral: a message each way', { timeout: 30_000 }, async () => {
    const peripheral = await BlePeripheralLink.start({ hci: bt.hci, profile: 'dif' })
    const transport = createTransport(peripheral, {
      onMessage: async (m) => {
        await peripheral.sendMessage(
          new TextEncoder().encode(`{"echo":${JSON.stringify(new TextDecoder().decode(m.data).length)}}`),
        )
      },
    })
    const noble: Stack = await createStack('noble', bt.hci)
    try {
      await waitPoweredOn(noble)
      const found = new Promise<Stack>((r) => noble.once('discover', r))
      await noble.startScanningAsync([SERVICE], false)
      const p = await found
      await noble.stopScanningAsync()
      await p.connectAsync({ mtu: 247 })
      const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync([SERVICE], [WRITE, READ])
      const write = characteristics.find((c: Stack) => c.uuid === WRITE)
      const read = characteristics.find((c: Stack) => c.uuid === READ)
      const answer = new Promise<string>((resolve) => read.on('data', collectUntilEom(resolve)))
      await read.subscribeAsync()
      const mine = envelope('from-dif-central ')
      for (const c of chunksOf(mine, (p.mtu ?? 23) - 3)) await write.writeAsync(c, true)
      expect(await answer).toBe(`{"echo":${mine.length}}`)
      expect(peripheral.negotiatedMtu).toBe(247)
      await p.disconnectAsync()
    } finally {
      noble.stop()
      await transport.close()
    }
  })

  it('a peripheral with the service but not its characteristics: ERR_BLE_PROFILE, not a hang', { timeout: 30_000 }, async () => {
    const bleno: Stack = await createStack('bleno', bt.hci)
    await waitPoweredOn(bleno)
    const service = CARRIER_PROFILE.service.replace(/-/g, '')
    bleno.setServices([
      new bleno.PrimaryService({
        uuid: service,
        characteristics: [
          new bleno.Characteristic({ uuid: CARRIER_PROFILE.write.replace(/-/g, ''), properties: ['writeWithoutResponse'] }),
        ],
      }),
    ])
    bleno.startAdvertising('half', [service])
    try {
      await expect(BleCentralLink.connect({ hci: bt.hci })).rejects.toMatchObject({
        code: 'ERR_BLE_PROFILE',
        message: expect.stringContaining("lacks the carrier profile's characteristics"),
      })
    } finally {
      bleno.stop()
    }
  })
})
