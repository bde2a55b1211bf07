// The NFC adapter, in progress: the APDU codec, the card-side applet (HCE) and the reader-side Link
// over any APDU transport. Still to come: nfc-pcsc, the vpcd virtual card, NDEF.
export {
  ApduError,
  CARRIER_AID,
  type CommandApdu,
  encodeCommand,
  encodeResponse,
  parseCommand,
  parseResponse,
  SW,
} from './apdu.js'
export {
  APPLET_VERSION,
  type AppletOptions,
  CardApplet,
  CLA_CHAINING,
  CLA_PROPRIETARY,
  INS_ENVELOPE,
  INS_GET_RESPONSE,
  INS_SELECT,
} from './applet.js'
export { ApduReaderLink, CardStatusError, type Transmit } from './reader-link.js'
