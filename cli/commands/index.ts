import type { RegisterCommand } from '../registry.js'

/**
 * Every subcommand of `carrier`, in the order --help lists them: the module that registers it, and
 * how the top-level --help lists it. A run imports only the module of the command it runs (`carrier
 * --help` imports none), because importing all of them — the QR codecs, WebSocket, the BLE and NFC
 * adapters — costs more than the command itself at a cold start. test/cli/options.test.ts checks
 * that these lines say what the modules register.
 */
export interface CommandEntry {
  name: string
  /** As --help lists it: `send-file [options] <file>`. */
  term: string
  description: string
  load: () => Promise<{ register: RegisterCommand }>
}

const agent = () => import('./agent.js')
const didcomm = () => import('./didcomm.js')
const invite = () => import('./invite.js')
const mqtt = () => import('./mqtt.js')

export const COMMANDS: CommandEntry[] = [
  {
    name: 'send',
    term: 'send [options]',
    description: 'send a DIDComm message to a DID, over the channel its DID document names (authcrypt; --anon for anoncrypt)',
    load: agent,
  },
  {
    name: 'send-file',
    term: 'send-file [options] <file>',
    description:
      "send a file encrypted once with a fresh key: one authcrypt share-media, then the ciphertext as bytes over the link, each chunk confirmed on the receiver's disk; a restarted receiver resumes (docs/FILES.md)",
    load: agent,
  },
  {
    name: 'listen',
    term: 'listen [options]',
    description:
      'receive DIDComm messages: each as metadata JSON in --out, files beside it (never overwriting; parts resumed after a restart)',
    load: agent,
  },
  {
    name: 'ble',
    term: 'ble',
    description: 'exchange envelopes over Bluetooth LE GATT (no network needed)',
    load: () => import('./ble.js'),
  },
  {
    name: 'bridge',
    term: 'bridge [options]',
    description:
      'relay envelopes between a device on Bluetooth LE or NFC and MQTT inboxes, without decrypting them (only the forward to the bridge is opened)',
    load: () => import('./bridge.js'),
  },
  { name: 'keys', term: 'keys', description: 'DIDComm identities', load: didcomm },
  {
    name: 'pack',
    term: 'pack [options] [file]',
    description: 'pack a plaintext message (file or stdin) into an encrypted DIDComm envelope',
    load: didcomm,
  },
  {
    name: 'sign',
    term: 'sign [options] [file]',
    description: 'sign a plaintext message (file or stdin) with the identity',
    load: didcomm,
  },
  {
    name: 'unpack',
    term: 'unpack [options] [file]',
    description: 'unpack a DIDComm envelope (file or stdin), checking every rule of the spec',
    load: didcomm,
  },
  {
    name: 'invite',
    term: 'invite [options]',
    description: 'make an out-of-band invitation (URL, QR image), then wait for the invitee to connect back and answer it',
    load: invite,
  },
  {
    name: 'accept',
    term: 'accept [options] <invitation>',
    description: 'accept an out-of-band invitation (URL or QR image): connect back to the inviter and wait for its answer',
    load: invite,
  },
  {
    name: 'loopback',
    term: 'loopback [options] <file>',
    description: 'send a file through the wire over an in-memory link with loss (no radio needed)',
    load: () => import('./loopback.js'),
  },
  {
    name: 'mediator',
    term: 'mediator [options]',
    description: 'run a DIDComm mediator (coordinate-mediation 2.0/3.0, pickup 3.0, forwards) over HTTP, WebSocket and MQTT',
    load: () => import('./mediator.js'),
  },
  {
    name: 'broker',
    term: 'broker [options]',
    description: 'run the embedded MQTT broker (aedes) on 127.0.0.1 until interrupted',
    load: mqtt,
  },
  {
    name: 'mqtt',
    term: 'mqtt',
    description: 'send and receive raw envelope files through an MQTT broker',
    load: mqtt,
  },
  {
    name: 'nfc',
    term: 'nfc',
    description: 'hand envelopes over NFC: a PC/SC reader, a virtual card for vpcd, an NDEF tag',
    load: () => import('./nfc.js'),
  },
  {
    name: 'qr',
    term: 'qr',
    description: 'hand a file or envelope over animated QR codes',
    load: () => import('./qr.js'),
  },
  {
    name: 'web',
    term: 'web [options]',
    description: 'serve the browser wallet (and the QR pages): open the printed link on localhost, or behind HTTPS on a phone',
    load: () => import('./web.js'),
  },
]
