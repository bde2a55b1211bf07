import { readFile, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { decodeFramesFrom, type Ecc, encodeFramesToDir, modulesToTerminal, QrDisplayLink } from '../../adapters/qr/index.js'
import { serveQrPages } from '../../adapters/qr/web/serve.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { count, decimal, file, folder, host, integer, oneOf, port } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'
import { holdTerminal } from '../terminal.js'

const qrVersion = integer(1, 40, 'a QR version')

type Colors = 'paint' | 'dark' | 'light'
/** 256-colour white (231) on black (16): colours of the fixed cube, which terminal themes leave alone. */
const PAINT = '\x1b[38;5;231;48;5;16m'
const RESET = '\x1b[0m'
const INVERSE: Record<string, string> = { '█': ' ', ' ': '█', '▀': '▄', '▄': '▀' }

/**
 * A code as terminal text with a quiet zone of 4 modules. modulesToTerminal draws light modules in
 * the foreground colour (right on a dark background); a light background needs the glyphs swapped,
 * and `paint` sets both colours so the code reads the same in any theme.
 */
export function terminalCode(code: { size: number; modules: Uint8Array }, colors: Colors): string {
  const text = modulesToTerminal(code, 4)
  if (colors === 'dark') return text
  if (colors === 'light') return text.replace(/[█ ▀▄]/g, (c) => INVERSE[c] as string)
  return text
    .split('\n')
    .map((l) => `${PAINT}${l}${RESET}`)
    .join('\n')
}
const ecc = oneOf(['L', 'M', 'Q', 'H'] as const, { caseless: true })

export function register(program: Command, ctx: CliContext): void {
  const qr = program.command('qr').description('hand a file or envelope over animated QR codes')
  qr.command('encode')
    .description('render a file as fountain-coded QR codes, one PNG per frame')
    .argument('<file>', 'file or envelope')
    .requiredOption('--out <dir>', 'folder for the PNG frames', folder)
    .option('--frames <n>', 'how many frames (default: twice what a receiver needs, plus 20: any half of them decodes)', count)
    .option('--version <v>', 'QR version 1–40 (default 20 for ≤ 16 KB, else 25)', qrVersion)
    .option('--ecc <level>', 'error correction L, M, Q or H', ecc, 'L')
    .option('--scale <px>', 'pixels per module', integer(1, 64, 'pixels per module,'), 4)
    .action(async (file: string, o: { out: string; frames?: number; version?: number; ecc: Ecc; scale: number }) => {
      const data = new Uint8Array(await readFile(file))
      const bar = ctx.out.progress('encode', o.frames ?? 1, 'frames')
      const r = await encodeFramesToDir(data, o.out, { ...o, onFrame: (n) => bar.update(n) })
      bar.stop()
      ctx.out.result(`${r.frames} QR v${r.version}-${r.ecc} frames in ${o.out} (a receiver needs about ${r.symbolsNeeded})`, {
        command: 'qr encode',
        ...r,
      })
    })

  qr.command('serve')
    .description('serve the web sender and scanner pages (camera access needs localhost or HTTPS)')
    .option('--port <n>', 'TCP port (0 = any free port)', port, 8080)
    .option('--host <host>', 'interface to listen on', host, '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      const pages = await serveQrPages({ port: o.port, host: o.host })
      ctx.out.result(`QR pages on ${pages.url}: sender.html and scanner.html (Ctrl-C to stop)`, {
        command: 'qr serve',
        url: pages.url,
        sender: `${pages.url}sender.html`,
        scanner: `${pages.url}scanner.html`,
      })
      await untilSignal()
      await pages.close()
    })

  qr.command('show')
    .description('play a file as animated QR codes in the terminal (Ctrl-C to stop)')
    .argument('<file>', 'file or envelope')
    .option('--fps <n>', 'codes per second', decimal(0.1, 60, 'codes per second,'), 6)
    .option('--version <v>', 'QR version 1–40', qrVersion, 10)
    .option('--ecc <level>', 'error correction L, M, Q or H', ecc, 'L')
    .option('--frames <n>', 'stop after this many codes', count)
    .option(
      '--colors <mode>',
      "paint: black on white whatever the terminal's theme; dark / light: the terminal's own colours, for a dark or a light background (no colour codes)",
      oneOf(['paint', 'dark', 'light'] as const),
      process.env.NO_COLOR ? 'dark' : 'paint',
    )
    .action(async (file: string, o: { fps: number; version: number; ecc: Ecc; frames?: number; colors: Colors }) => {
      const data = new Uint8Array(await readFile(file))
      const ac = new AbortController()
      // in a terminal: cursor hidden and no line wrap while the codes play; Ctrl-C restores both and exits 130
      const release = process.stdout.isTTY ? holdTerminal(process.stdout, { hide: true }) : undefined
      if (!release) process.once('SIGINT', () => ac.abort())
      const link = new QrDisplayLink({
        version: o.version,
        ecc: o.ecc,
        show: async (code, signal) => {
          process.stdout.write(`\x1b[H\x1b[2J${terminalCode(code, o.colors)}\n`)
          await new Promise((r) => setTimeout(r, 1000 / o.fps))
          signal?.throwIfAborted()
        },
      })
      try {
        await createTransport(link).send(data, { signal: ac.signal, frameBudget: o.frames })
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err
      } finally {
        release?.()
      }
    })

  qr.command('decode')
    .description('decode QR frames (PNG images or folders of them) back into the file; exit 0 once decoded')
    .argument('<images...>', 'PNG files or folders')
    .requiredOption('--out <file>', 'where to write what was received', file)
    .action(async (paths: string[], o: { out: string }) => {
      const bar = ctx.out.progress('decode', 1, 'symbols')
      const r = await decodeFramesFrom(paths, { onProgress: (rank, k) => bar.update(rank, k) }).finally(() => bar.stop())
      await writeFile(o.out, r.data)
      ctx.out.result(`decoded ${r.data.length} bytes (${r.mediaType}) from ${r.codes} codes into ${o.out}`, {
        command: 'qr decode',
        bytes: r.data.length,
        mediaType: r.mediaType,
        codes: r.codes,
      })
    })
}
