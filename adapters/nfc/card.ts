// The card side alone, with no Node imports: what an HCE host (Android HostApduService through
// React Native, a browser, Node) runs — `didcomm-carrier/nfc/card`.
export { CARRIER_AID, encodeResponse, parseCommand, SW } from './apdu.js'
export { APPLET_VERSION, type AppletOptions, CardApplet } from './applet.js'
export { decodeNdef, encodeNdef, type NdefRecord, recordUri, uriRecord } from './ndef.js'
export { type ApduResponder, CardDispatcher, NDEF_AID, Type4Tag } from './type4.js'
