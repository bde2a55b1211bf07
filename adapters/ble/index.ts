// The BLE GATT adapter is being built (issue: central/peripheral Links over noble/bleno); its
// profile and endpoint URIs are fixed first so DID documents can already name them.
export {
  type BleEndpoint,
  CARRIER_PROFILE,
  DIF_PROFILE,
  InvalidBleEndpointError,
  makeBleEndpoint,
  parseBleEndpoint,
} from './profile.js'
