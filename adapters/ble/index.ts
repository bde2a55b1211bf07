export { advertisementData, scanResponseData } from './advertising.js'
export { BleCentralLink, type CentralOptions, PeerNotFoundError } from './central.js'
export { type BleEndpointTransportOptions, bleEndpointTransport } from './endpoint-transport.js'
export { EomAssembler, eomChunks } from './eom.js'
export { type BleProfileName, GattLink, type GattLinkOptions } from './gatt-link.js'
export {
  attachHciSocket,
  BleUnavailableError,
  createStack,
  HCI_ENV,
  type HciSpec,
  InvalidHciSpecError,
  parseHci,
  resolveHci,
  waitPoweredOn,
} from './hci.js'
export { BlePeripheralLink, type PeripheralOptions } from './peripheral.js'
export {
  type BleEndpoint,
  type BleWriteProperties,
  type BleWriteType,
  CARRIER_PROFILE,
  DIF_PROFILE,
  InvalidBleEndpointError,
  makeBleEndpoint,
  parseBleEndpoint,
  profileUuids,
} from './profile.js'
export { UnixHciSocket } from './unix-hci-socket.js'
