import type { EndpointTransport } from '../../src/agent.js'
import { LinkInbox } from '../../src/link-endpoint.js'
import type { SendOptions, SendReport, Transport } from '../../src/transport.js'
import { createTransport } from '../../src/wire/create-transport.js'
import type { TransportOptions } from '../../src/wire/options.js'
import { BleCentralLink } from './central.js'
import type { HciSpec } from './hci.js'
import { BlePeripheralLink } from './peripheral.js'
import { CARRIER_PROFILE, InvalidBleEndpointError, parseBleEndpoint } from './profile.js'

export interface BleEndpointTransportOptions {
  /** HCI transport for both roles (`hci:0`, `uart:…`, `unix:…`); default $CARRIER_BLE_HCI. */
  hci?: string | HciSpec
  /** Be reachable at ble://…?token=T: advertise as a peripheral; what centrals send arrives. */
  listen?: { token: string; name?: string }
  /** Options of the core transports (time-outs, limits). */
  transport?: TransportOptions
}

/**
 * Bluetooth LE for an Agent. Sending to a `ble://` endpoint connects as a central to the
 * peripheral advertising the endpoint's token, and keeps that connection for further messages and
 * for what comes back; with `listen`, the agent is itself a peripheral at its own token. Every
 * envelope that arrives can be answered over its own link (DIDComm return_route), which is how a
 * central with no endpoint of its own hears back.
 */
export async function bleEndpointTransport(o: BleEndpointTransportOptions = {}): Promise<EndpointTransport> {
  const inbox = new LinkInbox()
  const centrals = new Map<string, Promise<Transport>>()
  if (o.listen) {
    const link = await BlePeripheralLink.start({ hci: o.hci, token: o.listen.token, name: o.listen.name })
    inbox.serve(createTransport(link, o.transport))
  }
  return {
    schemes: ['ble:'],
    // a connection carries bytes as well as envelopes: a file's ciphertext goes as it is (Agent.sendBytes)
    bytes: true,
    async send(uri: string, envelope: string | Uint8Array, options?: SendOptions): Promise<SendReport> {
      const endpoint = parseBleEndpoint(uri)
      if (endpoint.service !== CARRIER_PROFILE.service)
        throw new InvalidBleEndpointError(`${uri}: only the carrier GATT profile is reachable through an agent`)
      const key = endpoint.token ?? ''
      let t = centrals.get(key)
      if (!t) {
        t = BleCentralLink.connect({ hci: o.hci, token: endpoint.token }).then((link) =>
          inbox.serve(createTransport(link, o.transport)),
        )
        // a failed connection is not kept: the next send scans again
        t.catch(() => centrals.delete(key))
        centrals.set(key, t)
      }
      return (await t).send(envelope, options)
    },
    incoming: () => inbox.incoming(),
    async close() {
      await Promise.allSettled([...centrals.values()])
      await inbox.close()
    },
  }
}
