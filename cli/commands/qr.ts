import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Command } from 'commander'
import { writeNew } from '../../adapters/fs/save.js'
import {
  decodeFileFrom,
  decodeFramesFrom,
  type Ecc,
  encodeFileToDir,
  encodeFramesToDir,
  modulesToTerminal,
  QrDisplayLink,
} from '../../adapters/qr/index.js'
import { serveQrPages } from '../../adapters/qr/web/serve.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { loadIdentity, resolverWith } from '../identity.js'
import { count, decimal, did, file, folder, host, integer, oneOf, port } from '../options.js'
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
    .description('encrypt a file once and render its ciphertext and key as fountain-coded QR codes, one PNG per frame')
    .argument('<file>', 'the file (with --raw: any bytes, e.g. an envelope, as they are)')
    .requiredOption('--out <dir>', 'folder for the PNG frames', folder)
    .option('--to <did>', "the recipient: the key goes encrypted to this DID (without it the key is in the codes' clear)", did)
    .option('--identity <file>', 'our identity (carrier keys new): the key goes authcrypted from it (needs --to)', file)
    .option('--raw', 'the bytes as they are, unencrypted, one fountain stream (what qr show plays)', false)
    .option('--frames <n>', 'how many frames (default: twice what a receiver needs, plus 20: any half of them decodes)', count)
    .option('--version <v>', 'QR version 1–40 (default 20 for ≤ 16 KB, else 25)', qrVersion)
    .option('--ecc <level>', 'error correction L, M, Q or H', ecc, 'L')
    .option('--scale <px>', 'pixels per module', integer(1, 64, 'pixels per module,'), 4)
    .action(
      async (
        path: string,
        o: {
          out: string
          to?: string
          identity?: string
          raw: boolean
          frames?: number
          version?: number
          ecc: Ecc
          scale: number
        },
      ) => {
        if (o.raw && (o.to || o.identity)) throw new Error('--raw sends the bytes as they are: no --to or --identity')
        if (o.identity && !o.to) throw new Error('--identity authcrypts the key to a recipient: give --to as well')
        const data = new Uint8Array(await readFile(path))
        const bar = ctx.out.progress('encode', o.frames ?? 1, 'frames')
        const onFrame = (n: number) => bar.update(n)
        if (o.raw) {
          const r = await encodeFramesToDir(data, o.out, { ...o, onFrame }).finally(() => bar.stop())
          return ctx.out.result(
            `${r.frames} QR v${r.version}-${r.ecc} frames in ${o.out} (a receiver needs about ${r.symbolsNeeded})`,
            { command: 'qr encode', raw: true, ...r },
          )
        }
        const from = o.identity ? await loadIdentity(o.identity) : undefined
        const r = await encodeFileToDir(data, o.out, {
          ...o,
          from,
          ...(from ? { resolver: resolverWith(from.document) } : {}),
          filename: basename(path),
          onFrame,
        }).finally(() => bar.stop())
        const key =
          r.protection === 'authcrypt'
            ? `the key authcrypted from ${from?.did} to ${o.to}`
            : r.protection === 'anoncrypt'
              ? `the key anoncrypted to ${o.to}`
              : 'the key in the clear: whoever sees the codes can read the file'
        ctx.out.result(
          `${r.frames} QR v${r.version}-${r.ecc} frames in ${o.out} (a receiver needs about ${r.symbolsNeeded}): ${basename(path)} encrypted, ${key}`,
          { command: 'qr encode', raw: false, ...r },
        )
      },
    )

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
    .description('decode QR frames (PNG images or folders of them) back into the file; exit 0 once decoded and verified')
    .argument('<images...>', 'PNG files or folders')
    .requiredOption(
      '--out <path>',
      "a folder (the sender's file name, made safe) or a file name; never overwrites: name (1).ext",
      file,
    )
    .option('--identity <file>', 'our identity (carrier keys new): opens a key encrypted to us', file)
    .option('--raw', 'the first stream in the codes as it is (qr encode --raw, qr show, an envelope)', false)
    .action(async (paths: string[], o: { out: string; identity?: string; raw: boolean }) => {
      const bar = ctx.out.progress('decode', 1, 'symbols')
      const onProgress = (rank: number, k: number) => bar.update(rank, k)
      if (o.raw) {
        const r = await decodeFramesFrom(paths, { onProgress }).finally(() => bar.stop())
        const out = (await isFolder(o.out)) ? join(o.out, 'received.bin') : o.out
        const path = join(dirname(out), await writeNew(dirname(out), basename(out), r.data))
        return ctx.out.result(`decoded ${r.data.length} bytes (${r.mediaType}) from ${r.codes} codes into ${path}`, {
          command: 'qr decode',
          raw: true,
          path,
          bytes: r.data.length,
          mediaType: r.mediaType,
          codes: r.codes,
        })
      }
      const identity = o.identity ? await loadIdentity(o.identity) : undefined
      const r = await decodeFileFrom(paths, {
        out: o.out,
        identity,
        ...(identity ? { resolver: resolverWith(identity.document) } : {}),
        onProgress,
      }).finally(() => bar.stop())
      const how =
        r.protection === 'authcrypt'
          ? `from ${r.from}`
          : r.protection === 'anoncrypt'
            ? 'from an anonymous sender'
            : 'key in the clear'
      ctx.out.result(`decoded ${r.filename} (${r.bytes} bytes, ${how}, SHA-256 verified) from ${r.codes} codes into ${r.path}`, {
        command: 'qr decode',
        raw: false,
        ...r,
      })
    })
}

const isFolder = (p: string) =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => p.endsWith('/'),
  )
