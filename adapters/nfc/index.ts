// The NFC adapter: the APDU codec, the card-side applet (HCE), the reader-side Link over any APDU
// transport, PC/SC readers through nfc-pcsc, the vpcd virtual card, NDEF and Type 4 Tags.
export {
  ApduError,
  CARRIER_AID,
  type CommandApdu,
  encodeCommand,
  encodeResponse,
  parseCommand,
  parseResponse,
  SW,
  selectCarrierCommand,
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
export { NFC_SCHEMES, nfcEndpointTransport } from './endpoint-transport.js'
export { decodeNdef, encodeNdef, NdefError, type NdefRecord, recordUri, uriRecord } from './ndef.js'
export { NoReaderError, PcscReader } from './pcsc.js'
export { ApduReaderLink, CardStatusError, NfcCloseTimeoutError, type Transmit } from './reader-link.js'
export { type ApduResponder, CardDispatcher, NDEF_AID, readType4Ndef, TagError, Type4Tag, writeType4Ndef } from './type4.js'
export { type AsyncApduResponder, HCE_ATR, VpcdCard } from './vpcd-card.js'
export { VpcdCardThread } from './vpcd-thread.js'
