import type { Command } from 'commander'
import { BlePeripheralLink, HCI_ENV } from '../../adapters/ble/index.js'
import { mqttEndpointTransport } from '../../adapters/mqtt/index.js'
import { PcscReader } from '../../adapters/nfc/index.js'
import { Bridge } from '../../src/bridge.js'
import type { DIDDocument } from '../../src/did/document.js'
import { CarrierError, createTransport, type Link } from '../../src/index.js'
import { didTag, loadIdentity, ownEndpoint, resolverWith } from '../identity.js'
import { file, group, hci, mqttUri, oneOf, readerName, token } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

export function register(program: Command, ctx: CliContext): void {
  program
    .command('bridge')
    .description(
      'relay envelopes between a device on Bluetooth LE or NFC and MQTT inboxes, without decrypting them (only the forward to the bridge is opened)',
    )
    .requiredOption(
      '--identity <file>',
      'the bridge identity; its service endpoint is its MQTT inbox (carrier keys new --service mqtt://…)',
      file,
    )
    .option(
      '--from <channel>',
      'the device side: ble (we are the peripheral) or nfc (we are the PC/SC reader)',
      oneOf(['ble', 'nfc']),
      'ble',
    )
    .option('--to <uri>', 'the bridge inbox endpoint, when the identity has none (mqtt://host:port/didcomm/v2/<rk>/in)', mqttUri)
    .option('--token <token>', 'advertise this invitation token', token)
    .option('--hci <spec>', `HCI transport: hci:N, uart:PATH or unix:PATH (default $${HCI_ENV})`, hci)
    .option('--reader <name>', 'nfc: part of the PC/SC reader name (default: the first reader)', readerName)
    .option('--extended', 'nfc: extended APDUs when the phone announces them')
    .option('--group <name>', 'share the inbox with other bridge instances (MQTT shared subscription)', group)
    .action(async (o: BridgeOptions) => {
      if (o.from !== 'ble' && o.from !== 'nfc') throw new Error(`--from ${o.from}: ble or nfc`)
      const identity = await loadIdentity(o.identity)
      const endpoint = ownEndpoint(identity, o.to)
      const resolver = resolverWith(identity.document as DIDDocument)
      const remote = await mqttEndpointTransport({
        endpoint,
        clientId: `carrier-bridge-${didTag(identity.did)}`,
        ...(o.group ? { group: o.group } : {}),
      })
      const device = await openDevice(o, ctx)
      const bridge = new Bridge({
        identity,
        resolver,
        local: createTransport(device.link),
        remote,
        ownEndpoint: endpoint,
        onError: (err) => {
          const reason = err instanceof CarrierError ? `${err.code}: ${err.message}` : String((err as Error).message ?? err)
          ctx.out.result(`refused: ${reason}`, { command: 'bridge', refused: reason })
        },
        onRelay: (direction, next, bytes) =>
          ctx.out.result(
            `${direction === 'toRemote' ? `${o.from} → mqtt` : `mqtt → ${o.from}`} ${bytes} bytes for ${next.slice(0, 40)}…`,
            {
              command: 'bridge',
              direction,
              next,
              bytes,
            },
          ),
      })
      bridge.start()
      ctx.out.info(`bridging ${o.from} ↔ ${endpoint} as ${identity.did.slice(0, 40)}… (Ctrl-C to stop)`)
      await untilSignal()
      await bridge.close()
      await device.close()
    })
}

interface BridgeOptions {
  identity: string
  from: string
  to?: string
  token?: string
  hci?: string
  reader?: string
  extended?: boolean
  group?: string
}

/**
 * The device side. BLE: we advertise as a peripheral and the device connects. NFC: we are the
 * reader and the phone taps; frames for it wait (up to the transfer time-out) until it is in the
 * field, and a transfer cut by lifting the phone resumes at the next tap.
 */
async function openDevice(o: BridgeOptions, ctx: CliContext): Promise<{ link: Link; close(): Promise<void> }> {
  if (o.from === 'nfc') {
    const reader = await PcscReader.open({ name: o.reader, timeoutMs: 10_000 })
    reader.on('card', () => ctx.out.info('device tapped'))
    reader.on('card.off', () => ctx.out.info('device left the field'))
    ctx.out.info(`reader ${reader.name}: waiting for a tap`)
    return { link: reader.link({ extended: o.extended, pollMs: 10 }), close: () => reader.close() }
  }
  const link = await BlePeripheralLink.start({ hci: o.hci, token: o.token, name: 'carrier-bridge' })
  link.on('up', (mtu: number) => ctx.out.info(`device connected (ATT MTU ${mtu})`))
  return { link, close: async () => {} }
}
