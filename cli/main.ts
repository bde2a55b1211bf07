import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { CarrierError } from '../src/transport.js'
import { addressInUse } from './address-in-use.js'
import { COMMANDS } from './commands/index.js'
import { createOutput } from './output.js'
import type { CliContext } from './registry.js'

/** package.json is two folders up from dist/cli/main.js and one from cli/main.ts (tsx). */
function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string }
      if (pkg.name === 'didcomm-carrier') return pkg.version
    } catch {}
  }
  return 'unknown'
}

/** The `carrier` command with every subcommand (test/cli/options.test.ts walks its options). */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command()
    .name('carrier')
    .description('DIDComm v2 over Bluetooth LE, animated QR, NFC and MQTT')
    .version(version(), '-V', 'output the version number (also: carrier --version)')
    .option('--json', 'print results as JSON lines (no progress bars)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  for (const register of COMMANDS) register(program, ctx)
  return program
}

/** Runs the CLI; resolves to the exit code. Failures print one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  // `--version` alone is the program's; after a subcommand it is that command's option (qr --version 25)
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  const json = argv.includes('--json')
  const program = buildProgram({ out: createOutput(json) })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (caught) {
    const err = addressInUse(caught, argv)
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed
      return err.exitCode
    }
    const line = err instanceof CarrierError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
    const code = err instanceof CarrierError ? err.code : undefined
    if (json) process.stdout.write(`${JSON.stringify({ event: 'error', code, message: (err as Error)?.message, error: line })}\n`)
    process.stderr.write(`carrier: ${line.split('\n')[0]}\n`)
    return 1
  }
}
