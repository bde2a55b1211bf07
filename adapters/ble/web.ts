/**
 * The browser-safe entry of the BLE adapter (`didcomm-carrier/ble/web`): the Web Bluetooth central
 * and the profile constants, nothing that needs Node or a native stack.
 */
export {
  type BleEndpoint,
  CARRIER_PROFILE,
  DIF_PROFILE,
  InvalidBleEndpointError,
  makeBleEndpoint,
  parseBleEndpoint,
  profileUuids,
} from './profile.js'
export {
  MAX_BLE_FRAME,
  MIN_BLE_FRAME,
  type WebBluetooth,
  type WebBluetoothCharacteristic,
  type WebBluetoothDevice,
  WebBluetoothLink,
  type WebBluetoothOptions,
  type WebBluetoothServer,
  type WebBluetoothService,
  type WriteType,
} from './web-bluetooth.js'
