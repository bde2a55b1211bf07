import { request } from 'node:https'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startWebServer } from '../../adapters/http/index.js'
import { MEDIA_ENCRYPTED } from '../../src/index.js'
import { haveOpenssl, makeCertificates } from '../support/mosquitto.js'
import { tempDir } from '../support/temp.js'

describe.skipIf(!haveOpenssl())('HTTPS and WSS', () => {
  it('serves POST over TLS (202, 415) and WebSocket over TLS; a client that does not trust the CA is refused', async () => {
    const certs = makeCertificates(tempDir('carrier-tls-'), [])
    const server = await startWebServer({ tls: { key: certs['server.key'] as string, cert: certs['server.pem'] as string } })
    const post = (type: string, ca?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(server.url, { method: 'POST', headers: { 'content-type': type }, ca }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end('{"ciphertext":"x"}')
      })
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
      const arrived = (async () => {
        for await (const e of server.incoming()) {
          e.done?.()
          return new TextDecoder().decode(e.data)
        }
      })()
      expect(await post(MEDIA_ENCRYPTED, certs['ca.pem'])).toBe(202)
      expect(await arrived).toBe('{"ciphertext":"x"}')
      expect(await post('text/plain', certs['ca.pem'])).toBe(415)
      await expect(post(MEDIA_ENCRYPTED)).rejects.toThrow(/self.signed|unable to verify|certificate/i)
      const ws = new WebSocket(server.wsUrl, { ca: certs['ca.pem'] })
      await new Promise((r, j) => {
        ws.once('open', r)
        ws.once('error', j)
      })
      const got = server.incoming()[Symbol.asyncIterator]().next()
      ws.send('{"protected":"p"}')
      expect(new TextDecoder().decode((await got).value?.data)).toBe('{"protected":"p"}')
      ws.close()
    } finally {
      await server.close()
    }
  })
})
