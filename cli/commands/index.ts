import type { RegisterCommand } from '../registry.js'
import { register as loopback } from './loopback.js'

/** Every subcommand of `carrier`, in the order --help lists them. */
export const COMMANDS: RegisterCommand[] = [loopback]
