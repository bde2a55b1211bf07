import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chainResolvers,
  createPeerDid,
  createTransport,
  didKeyResolver,
  didPeerResolver,
  packEncrypted,
  type Received,
  staticSecrets,
  unpack,
} from '../../src/index.js'
import { memoryLinkPair } from '../../src/testing/index.js'
import { deflateRaw, inflatePortable, inflateRaw } from '../../src/wire/compress.js'
import { openStream, prepareStream } from '../../src/wire/stream.js'
import { until } from '../support/until.js'

// React Native's Hermes and some WebViews have neither class: the core must not need them.
const g = globalThis as { CompressionStream?: unknown; DecompressionStream?: unknown }
const native = { CompressionStream: g.CompressionStream, DecompressionStream: g.DecompressionStream }
const remove = () => {
  delete g.CompressionStream
  delete g.DecompressionStream
}
const restore = () => Object.assign(g, native)

const MAX = 64 * 1024 * 1024
const text = (n: number) =>
  JSON.stringify({ protected: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9'.repeat(n), ciphertext: 'QUJD'.repeat(n * 8), iv: 'x', tag: 'y' })

describe('a runtime without CompressionStream / DecompressionStream', () => {
  beforeAll(remove)
  afterAll(restore)

  it('packs, sends compressed over the wire and unpacks, with both classes gone from the global scope', async () => {
    expect(typeof CompressionStream).toBe('undefined')
    const alice = createPeerDid()
    const bob = createPeerDid()
    const resolver = chainResolvers(didPeerResolver, didKeyResolver)
    const { packed } = await packEncrypted(
      {
        id: '1',
        type: 'https://didcomm.org/basicmessage/2.0/message',
        from: alice.did,
        to: [bob.did],
        body: { content: 'x'.repeat(20_000) },
      },
      { to: bob.did, from: alice.did, resolver, secrets: staticSecrets([...alice.secrets]) },
    )
    const pair = memoryLinkPair({ mtu: 185, loss: 0.02, seed: 19 })
    const a = createTransport(pair.a)
    const b = createTransport(pair.b)
    const got: Received[] = []
    void (async () => {
      for await (const r of b.receive()) got.push(r)
    })()
    const report = await a.send(packed, { compress: true })
    expect(report.compressed).toBe(true)
    expect(report.streamBytes).toBeLessThan(packed.length)
    await until(() => got.length === 1)
    const { message, metadata } = await unpack(new TextDecoder().decode(got[0]?.data), {
      resolver,
      secrets: staticSecrets([...bob.secrets]),
    })
    expect(message.body).toEqual({ content: 'x'.repeat(20_000) })
    expect(metadata.authenticated).toBe(true)
    await a.close()
    await b.close()
  })

  it('interoperates with a peer that has them: streams made by either are opened by the other', async () => {
    const envelope = text(200)
    remove()
    const portable = await prepareStream(envelope, { compress: true, maxMessageBytes: MAX })
    restore()
    const nativeMade = await prepareStream(envelope, { compress: true, maxMessageBytes: MAX })
    const bytesOf = (p: typeof portable) => p.slice(0, p.length)
    // the portable stream, opened natively
    const openedNatively = await openStream(bytesOf(portable), portable.flags, MAX)
    remove()
    // the native stream, opened without the classes
    const openedPortably = await openStream(bytesOf(nativeMade), nativeMade.flags, MAX)
    expect(new TextDecoder().decode(openedNatively.data)).toBe(envelope)
    expect(new TextDecoder().decode(openedPortably.data)).toBe(envelope)
    expect(portable.compressed && nativeMade.compressed).toBe(true)
  })

  it('stops a deflate bomb while inflating, and refuses a truncated stream', async () => {
    restore()
    const bomb = await deflateRaw(new Uint8Array(64 * 1024 * 1024)) // made natively: ~64 KB
    remove()
    expect(() => inflatePortable(bomb, 1024 * 1024)).toThrow(/inflates beyond the 1048576-byte limit/)
    await expect(inflateRaw(bomb, 1024 * 1024)).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
    const good = await deflateRaw(new TextEncoder().encode(text(50)))
    expect(() => inflatePortable(good.subarray(0, good.length >> 1), MAX)).toThrow()
  })

  it('refuses a small deflate bomb and a truncated small stream, inflated in one call', async () => {
    const bomb = await deflateRaw(new Uint8Array(1024 * 1024)) // ~1 KB: below the one-call size
    expect(bomb.length).toBeLessThanOrEqual(4096)
    await expect(inflateRaw(bomb, 64 * 1024)).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
    expect((await inflateRaw(bomb, 1024 * 1024)).length).toBe(1024 * 1024)
    const good = await deflateRaw(new TextEncoder().encode(text(50)))
    expect(good.length).toBeLessThanOrEqual(4096)
    await expect(inflateRaw(good.subarray(0, good.length >> 1), MAX)).rejects.toThrow()
  })
})
