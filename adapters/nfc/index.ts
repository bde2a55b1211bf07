// The NFC adapter is being built (issue: PC/SC reader Link and the host-card-emulation applet); the
// APDU codec both sides share comes first.
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
