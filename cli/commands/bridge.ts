import type { Command } from 'commander'
import { BlePeripheralLink, HCI_ENV } from '../../adapters/ble/index.js'
import { mqttEndpointTransport } from '../../adapters/mqtt/index.js'
import { Bridge } from '../../src/bridge.js'
import type { DIDDocument } from '../../src/did/document.js'
import { CarrierError, createTransport } from '../../src/index.js'
import { loadIdentity, ownEndpoint, resolverWith } from '../identity.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

export function register(program: Command, ctx: CliContext): void {
  program
    .command('bridge')
    .description(
      'relay envelopes between a device on Bluetooth LE and MQTT inboxes, without decrypting them (only the forward to the bridge is opened)',
    )
    .requiredOption(
      '--identity <file>',
      'the bridge identity; its service endpoint is its MQTT inbox (carrier keys new --service mqtt://…)',
    )
    .option('--from <channel>', 'the device side: ble', 'ble')
    .option('--to <uri>', 'the bridge inbox endpoint, when the identity has none (mqtt://host:port/didcomm/v2/<rk>/in)')
    .option('--token <token>', 'advertise this invitation token')
    .option('--hci <spec>', `HCI transport: hci:N, uart:PATH or unix:PATH (default $${HCI_ENV})`)
    .option('--group <name>', 'share the inbox with other bridge instances (MQTT shared subscription)')
    .action(async (o: { identity: string; from: string; to?: string; token?: string; hci?: string; group?: string }) => {
      if (o.from !== 'ble') throw new Error(`--from ${o.from}: only ble is bridged so far`)
      const identity = await loadIdentity(o.identity)
      const endpoint = ownEndpoint(identity, o.to)
      const resolver = resolverWith(identity.document as DIDDocument)
      const remote = await mqttEndpointTransport({
        endpoint,
        clientId: `carrier-bridge-${identity.did.slice(-12)}`,
        ...(o.group ? { group: o.group } : {}),
      })
      const link = await BlePeripheralLink.start({ hci: o.hci, token: o.token, name: 'carrier-bridge' })
      link.on('up', (mtu: number) => ctx.out.info(`device connected (ATT MTU ${mtu})`))
      const bridge = new Bridge({
        identity,
        resolver,
        local: createTransport(link),
        remote,
        ownEndpoint: endpoint,
        onError: (err) => {
          const reason = err instanceof CarrierError ? `${err.code}: ${err.message}` : String((err as Error).message ?? err)
          ctx.out.result(`refused: ${reason}`, { command: 'bridge', refused: reason })
        },
        onRelay: (direction, next, bytes) =>
          ctx.out.result(`${direction === 'toRemote' ? 'ble → mqtt' : 'mqtt → ble'} ${bytes} bytes for ${next.slice(0, 40)}…`, {
            command: 'bridge',
            direction,
            next,
            bytes,
          }),
      })
      bridge.start()
      ctx.out.info(`bridging BLE ↔ ${endpoint} as ${identity.did.slice(0, 40)}… (Ctrl-C to stop)`)
      await untilSignal()
      await bridge.close()
    })
}
