import { CarrierError } from '../../src/transport.js'

/**
 * GATT profiles. Ours: one service with a write-without-response characteristic (central →
 * peripheral) and a notify characteristic (peripheral → central); frames are sized to the ATT MTU
 * (517 requested). The compatibility profile is the DIF/Animo "DIDComm over Bluetooth" layout.
 */
export const CARRIER_PROFILE = {
  service: '8129adad-7895-4a7b-94ee-844ef3c54453',
  write: '8129adad-7895-4a7b-94ee-844ef3c54454',
  notify: '8129adad-7895-4a7b-94ee-844ef3c54455',
  requestedMtu: 517,
} as const

export const DIF_PROFILE = {
  service: 'd2f195b6-2e80-4ab0-be24-32ebe761352f',
  write: 'c3103ded-afd7-477c-b279-2ad264e20e74',
  indicate: 'e6e97879-780a-4c9b-b4e6-dcae3793a3e8',
  /** Chunks are MTU-sized; a message ends with these three bytes. */
  endOfMessage: 'EOM',
} as const

/** The three UUIDs of a profile: the service, central → peripheral, peripheral → central. */
export function profileUuids(profile: 'carrier' | 'dif'): { service: string; write: string; toCentral: string } {
  return profile === 'dif'
    ? { service: DIF_PROFILE.service, write: DIF_PROFILE.write, toCentral: DIF_PROFILE.indicate }
    : { service: CARRIER_PROFILE.service, write: CARRIER_PROFILE.write, toCentral: CARRIER_PROFILE.notify }
}

/**
 * How the central writes to the write characteristic: an ATT Write Command (without response) or
 * a Write Request (the peripheral answers each). Animo's peripherals declare write-with-response
 * only; a central uses what the characteristic offers, without response when it may.
 */
export type BleWriteType = 'withoutResponse' | 'withResponse'

/** The write characteristic's properties a peripheral declares: one write type, or both. */
export type BleWriteProperties = BleWriteType | 'both'

export class InvalidBleEndpointError extends CarrierError {
  constructor(message: string) {
    super('ERR_INVALID_ENDPOINT', message)
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface BleEndpoint {
  /** The GATT service to connect to (ours or the DIF one). */
  service: string
  /** Short token from an out-of-band invitation, advertised in service data to pick the right peer. */
  token?: string
}

/** ble://<service-uuid>[?token=…] */
export function parseBleEndpoint(uri: string): BleEndpoint {
  const m = /^ble:\/\/([^/?#]+)(?:\?(.*))?$/i.exec(uri)
  if (!m) throw new InvalidBleEndpointError(`not a ble:// endpoint: ${uri}`)
  const service = (m[1] as string).toLowerCase()
  if (!UUID.test(service)) throw new InvalidBleEndpointError(`not a 128-bit service UUID: ${m[1]}`)
  const token = new URLSearchParams(m[2] ?? '').get('token') ?? undefined
  if (token !== undefined && !/^[A-Za-z0-9_-]{1,12}$/.test(token))
    throw new InvalidBleEndpointError('token must be 1–12 base64url characters (it rides in the 31-byte scan response)')
  return { service, ...(token ? { token } : {}) }
}

export function makeBleEndpoint(e: BleEndpoint): string {
  const service = e.service.toLowerCase()
  if (!UUID.test(service)) throw new InvalidBleEndpointError(`not a 128-bit service UUID: ${e.service}`)
  if (e.token !== undefined && !/^[A-Za-z0-9_-]{1,12}$/.test(e.token))
    throw new InvalidBleEndpointError('token must be 1–12 base64url characters (it rides in the 31-byte scan response)')
  return `ble://${service}${e.token ? `?token=${e.token}` : ''}`
}
