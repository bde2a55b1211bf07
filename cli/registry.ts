import type { Command } from 'commander'
import type { Output } from './output.js'

export interface CliContext {
  out: Output
}

/** A command module: the adapter issues add theirs to COMMANDS in commands/index.ts. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void
