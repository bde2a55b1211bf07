import { readFileSync } from 'node:fs'
import { Command, CommanderError, Help } from 'commander'
import { CarrierError } from '../src/transport.js'
import { COMMANDS, type CommandEntry } from './commands/index.js'
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

/**
 * The `carrier` command. With `argv`, only the module of the command it names is imported; the
 * others are listed (for --help, and commander's "unknown command" suggestions) without being
 * loaded. Without `argv`, every subcommand is registered (test/cli/options.test.ts walks them).
 */
export async function buildProgram(ctx: CliContext, argv?: string[]): Promise<Command> {
  const program = new Command()
    .name('carrier')
    .description('DIDComm v2 over Bluetooth LE, animated QR, NFC and MQTT')
    .version(version(), '-V', 'output the version number (also: carrier --version)')
    .option('--json', 'print results as JSON lines (no progress bars)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  // the command is the first word that is not an option (the program's options take no value);
  // `carrier help send` is send's help
  const words = argv?.filter((a) => !a.startsWith('-')) ?? []
  const named = words[0] === 'help' ? words[1] : words[0]
  const wanted = argv === undefined ? COMMANDS : COMMANDS.filter((c) => c.name === named)
  const loaded = new Set<CommandEntry['load']>()
  for (const c of wanted) {
    if (loaded.has(c.load)) continue
    loaded.add(c.load)
    ;(await c.load()).register(program, ctx)
  }
  if (wanted.length === 0) {
    const terms = new Map(COMMANDS.map((c) => [c.name, c.term]))
    for (const c of COMMANDS) program.command(c.name).description(c.description)
    program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? new Help().subcommandTerm(cmd) })
  }
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
  const program = await buildProgram({ out: createOutput(json) }, argv)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err) {
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
