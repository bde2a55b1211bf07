import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { loopback } from '../loopback.js'
import { integer, probability } from '../options.js'
import type { CliContext } from '../registry.js'

export function register(program: Command, ctx: CliContext): void {
  program
    .command('loopback')
    .description('send a file through the wire over an in-memory link with loss (no radio needed)')
    .argument('<file>', 'file to send')
    .option('--mtu <bytes>', 'frame size', integer(1, 65_535, 'a frame size in bytes'), 182)
    .option('--loss <p>', 'probability that a frame is lost', probability, 0)
    .option('--simplex', 'one-way link: fountain coding, as over QR codes', false)
    .action(async (file: string, opts: { mtu: number; loss: number; simplex: boolean }) => {
      const data = new Uint8Array(await readFile(file))
      const bar = ctx.out.progress('loopback', data.length, opts.simplex ? 'symbols' : 'B')
      const r = await loopback(data, { ...opts, onProgress: (d, t) => bar.update(d, t) })
      bar.stop()
      const same = Buffer.compare(Buffer.from(r.received.data), Buffer.from(data)) === 0
      if (!same) throw new Error('received bytes differ from the file')
      ctx.out.result(
        `${r.link}: ${r.envelopeBytes} bytes in ${r.frames} frames, ${r.seconds.toFixed(2)} s, ${r.kbPerSecond.toFixed(0)} KB/s, byte-exact`,
        {
          command: 'loopback',
          link: r.link,
          envelopeBytes: r.envelopeBytes,
          frames: r.frames,
          seconds: r.seconds,
          byteExact: same,
        },
      )
    })
}
