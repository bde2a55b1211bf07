import type { EndpointTransport, IncomingEnvelope } from '../../src/agent.js'
import type { SendOptions, SendReport, Transport } from '../../src/transport.js'
import { AsyncQueue } from '../../src/wire/async-queue.js'
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
  const incoming = new AsyncQueue<IncomingEnvelope>()
  const transports: Transport[] = []
  const centrals = new Map<string, Promise<Transport>>()
  const serve = (t: Transport) => {
    transports.push(t)
    void (async () => {
      for await (const r of t.receive()) {
        incoming.push({ ...r, reply: (envelope: string, options?: SendOptions) => t.send(envelope, options) })
      }
    })()
    return t
  }
  if (o.listen) {
    const link = await BlePeripheralLink.start({ hci: o.hci, token: o.listen.token, name: o.listen.name })
    serve(createTransport(link, o.transport))
  }
  return {
    schemes: ['ble:'],
    async send(uri: string, envelope: string, options?: SendOptions): Promise<SendReport> {
      const endpoint = parseBleEndpoint(uri)
      if (endpoint.service !== CARRIER_PROFILE.service)
        throw new InvalidBleEndpointError(`${uri}: only the carrier GATT profile is reachable through an agent`)
      const key = endpoint.token ?? ''
      let t = centrals.get(key)
      if (!t) {
        t = BleCentralLink.connect({ hci: o.hci, token: endpoint.token }).then((link) =>
          serve(createTransport(link, o.transport)),
        )
        // a failed connection is not kept: the next send scans again
        t.catch(() => centrals.delete(key))
        centrals.set(key, t)
      }
      return (await t).send(envelope, options)
    },
    incoming: () => incoming.iterate(),
    async close() {
      await Promise.allSettled([...centrals.values()])
      await Promise.all(transports.map((t) => t.close()))
      incoming.close()
    },
  }
}
