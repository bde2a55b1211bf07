import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { CarrierError } from '../../../src/transport.js'
import { defaultWebDir } from './build.js'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
}

export interface QrPagesServer {
  url: string
  server: Server
  close(): Promise<void>
}

/**
 * Serves the built sender and scanner pages (and zxing-wasm's .wasm) over HTTP. Camera access
 * needs a secure context: http://127.0.0.1 / localhost counts as one; other hosts need HTTPS in
 * front. Only the page files are served, nothing else on disk.
 */
export async function serveQrPages(o: { port?: number; host?: string; dir?: string } = {}): Promise<QrPagesServer> {
  const dir = o.dir ?? defaultWebDir
  try {
    await readFile(join(dir, 'scanner.js'))
  } catch {
    throw new CarrierError('ERR_QR_PAGES_MISSING', `the QR web pages are not built in ${dir} (run npm run build)`)
  }
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const name = path === '/' ? 'index.html' : normalize(path.slice(1))
    if (name.includes('/') || name.includes('\\') || !TYPES[extname(name)] || name.startsWith('.')) {
      res.writeHead(404).end('not found')
      return
    }
    try {
      const body = await readFile(join(dir, name))
      res.writeHead(200, { 'content-type': TYPES[extname(name)] as string, 'cache-control': 'no-store' }).end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  const host = o.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  }
}
