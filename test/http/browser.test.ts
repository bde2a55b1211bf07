import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { webEndpointTransport } from '../../adapters/http/index.js'
import { createAgent, createMessage, createPeerDid, didPeerResolver } from '../../src/index.js'
import { CHROMIUM, haveChromium } from '../support/browsers.js'

// The HTTP/WebSocket client and the core in headless Chromium (its own fetch and WebSocket), from
// a page on another origin than the agent it talks to (CORS).
const chromiumThere = haveChromium()

const ENTRY = `
import { webClientTransport } from './adapters/http/client.ts'
import { createAgent, createMessage, createPeerDid, didPeerResolver } from './src/index.ts'
globalThis.talk = async (to, uri) => {
  const agent = createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [webClientTransport()] })
  const it = agent.messages()[Symbol.asyncIterator]()
  const sent = await agent.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'from the browser' } }), { to, via: uri, returnRoute: 'all' })
  const answer = (await it.next()).value
  await agent.close()
  return { uri: sent.uri, answer: answer.message.body.content, from: answer.message.from, authenticated: answer.metadata.authenticated }
}
`

async function page(script: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><meta charset="utf-8"><script>${script.replace(/<\/script/g, '<\\/script')}</script>`)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

describe.skipIf(!chromiumThere)('the web client in a browser', () => {
  it('a browser agent sends authcrypt over HTTP and over WebSocket and hears the answer (return_route)', async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    })
    const t = await webEndpointTransport({ listen: {} })
    const server = t.server as NonNullable<typeof t.server>
    const bob = createAgent({
      identity: createPeerDid({ service: [{ uri: server.url }, { uri: server.wsUrl }] }),
      resolver: didPeerResolver,
      transports: [t],
    })
    void (async () => {
      for await (const { message } of bob.messages())
        await bob.send(
          createMessage({
            type: 'https://didcomm.org/basicmessage/2.0/message',
            thid: message.id,
            body: { content: 'hello browser' },
          }),
          {
            to: message.from as string,
          },
        )
    })()
    const site = await page(bundle.outputFiles[0]?.text as string)
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    try {
      const tab = await browser.newPage()
      await tab.goto(site.url)
      for (const uri of [server.url, server.wsUrl]) {
        const r = await tab.evaluate(
          ([to, via]) =>
            (globalThis as unknown as { talk: (a: string, b: string) => Promise<unknown> }).talk(to as string, via as string),
          [bob.did, uri],
        )
        expect(r).toEqual({ uri, answer: 'hello browser', from: bob.did, authenticated: true })
      }
    } finally {
      await browser.close()
      await new Promise((r) => site.server.close(r))
      await bob.close()
    }
  })
})
