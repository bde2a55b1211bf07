import type { Command } from 'commander'
import { serveQrPages } from '../../adapters/qr/web/serve.js'
import { did, folder, host, port } from '../options.js'
import type { CliContext } from '../registry.js'
import { untilSignal } from '../signals.js'

export function register(program: Command, ctx: CliContext): void {
  program
    .command('web')
    .description('serve the browser wallet (and the QR pages): open the printed link on localhost, or behind HTTPS on a phone')
    .requiredOption('--mediator <did>', "the wallet's mediator (carrier mediator --ws prints its DID)", did)
    .option('--port <n>', 'TCP port (0 = any free port)', port, 8091)
    .option('--host <host>', 'interface to listen on', host, '127.0.0.1')
    .option('--dir <folder>', "serve the pages built in this folder (default: the package's dist/web)", folder)
    .action(async (o: { mediator: string; port: number; host: string; dir?: string }) => {
      const pages = await serveQrPages({ port: o.port, host: o.host, ...(o.dir ? { dir: o.dir } : {}) })
      const wallet = `${pages.url}wallet.html?mediator=${encodeURIComponent(o.mediator)}`
      ctx.out.result(`wallet on ${wallet} (Ctrl-C to stop)`, { command: 'web', url: pages.url, wallet })
      await untilSignal()
      await pages.close()
    })
}
