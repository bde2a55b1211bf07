import type { RegisterCommand } from '../registry.js'
import { register as agent } from './agent.js'
import { register as ble } from './ble.js'
import { register as bridge } from './bridge.js'
import { register as didcomm } from './didcomm.js'
import { register as invite } from './invite.js'
import { register as loopback } from './loopback.js'
import { register as mediator } from './mediator.js'
import { register as mqtt } from './mqtt.js'
import { register as nfc } from './nfc.js'
import { register as qr } from './qr.js'
import { register as web } from './web.js'

/** Every subcommand of `carrier`, in the order --help lists them. */
export const COMMANDS: RegisterCommand[] = [agent, ble, bridge, didcomm, invite, loopback, mediator, mqtt, nfc, qr, web]
