import { describe, expect, it } from 'vitest'
import type { Link, Received, Transport } from '../transport.js'
import { createTransport } from '../wire/create-transport.js'
import type { TransportOptions } from '../wire/options.js'
import { seededBytes } from './prng.js'

export { type StoreConformanceOptions, storeConformanceSuite } from './store-conformance.js'

export interface LinkPairHandle {
  a: Link
  b: Link
  /** Takes the link down and brings it back (BLE disconnect, card removal, broker restart). */
  interrupt?: () => Promise<void>
  close?: () => Promise<void>
}

export interface ConformanceOptions {
  /** Size of the "large message" case. Default 10 MB on duplex links, 200 KB on simplex ones. */
  largeMessageBytes?: number
  /** Messages in the "in a row" case. Default 1000 (100 on simplex links). */
  messagesInARow?: number
  transportOptions?: TransportOptions
  /** Per-test time-out (a hang fails, it never passes). Default 120 s. */
  testTimeoutMs?: number
  /** The factory's handles have interrupt(); set false for a channel that cannot drop on demand. */
  interrupt?: boolean
}

/**
 * The adapter conformance suite: every adapter's tests call it with a factory for a connected
 * pair of links, so each channel proves the same behaviour over its real stack.
 */
export function conformanceSuite(name: string, factory: () => Promise<LinkPairHandle>, options: ConformanceOptions = {}): void {
  const timeout = options.testTimeoutMs ?? 120_000

  async function setup(receiverOptions?: TransportOptions) {
    const pair = await factory()
    const drops: { handler?: (code: string) => void } = {}
    const a = createTransport(pair.a, options.transportOptions)
    const b = createTransport(pair.b, {
      ...options.transportOptions,
      ...receiverOptions,
      onDrop: (err) => drops.handler?.(err.code),
    })
    const inbox = collect(b)
    Object.defineProperty(inbox, 'onDrop', { set: (h: (code: string) => void) => (drops.handler = h) })
    const cleanup = async () => {
      await a.close()
      await b.close()
      await pair.close?.()
    }
    return { pair, a, b, inbox, cleanup, duplex: pair.a.duplex }
  }

  /** The factory's pair when it is duplex; a simplex one is closed again. */
  async function duplexPair(): Promise<LinkPairHandle | undefined> {
    const pair = await factory()
    if (pair.a.duplex) return pair
    await pair.close?.()
    return undefined
  }

  describe(`conformance: ${name}`, () => {
    it('delivers one small message byte-exact', { timeout }, async () => {
      const t = await setup()
      try {
        const msg = '{"protected":"x","ciphertext":"hello"}'
        await sendUntilReceived(t, msg, 1)
        const [got] = t.inbox.items
        expect(new TextDecoder().decode(got?.data)).toBe(msg)
        expect(got?.mediaType).toBe('application/didcomm-encrypted+json')
      } finally {
        await t.cleanup()
      }
    })

    it('delivers one large message byte-exact', { timeout }, async () => {
      const t = await setup()
      try {
        const size = options.largeMessageBytes ?? (t.duplex ? 10 * 1024 * 1024 : 200 * 1024)
        const data = seededBytes(size, 42)
        const report = await sendUntilReceived(t, data, 1)
        expect(t.inbox.items).toHaveLength(1)
        expect(equal(t.inbox.items[0]?.data, data)).toBe(true)
        if (t.duplex) expect(report?.confirmed).toBe(true)
      } finally {
        await t.cleanup()
      }
    })

    it('delivers many small messages in a row, each once and in order', { timeout }, async () => {
      const t = await setup()
      try {
        const n = options.messagesInARow ?? (t.duplex ? 1000 : 100)
        for (let i = 0; i < n; i++) await sendUntilReceived(t, `{"id":"${i}","type":"t"}`, i + 1)
        await settle()
        expect(t.inbox.items.map((r) => JSON.parse(new TextDecoder().decode(r.data)).id)).toEqual(
          Array.from({ length: n }, (_, i) => String(i)),
        )
      } finally {
        await t.cleanup()
      }
    })

    it('carries the media type', { timeout }, async () => {
      const t = await setup()
      try {
        await sendUntilReceived(t, seededBytes(3000, 3), 1, 'application/x-custom; v=1')
        await sendUntilReceived(t, '{"payload":"e30","signatures":[]}', 2, 'application/didcomm-signed+json')
        expect(t.inbox.items.map((r) => r.mediaType)).toEqual(['application/x-custom; v=1', 'application/didcomm-signed+json'])
      } finally {
        await t.cleanup()
      }
    })

    it('rejects with AbortError when aborted before and during send', { timeout }, async () => {
      const t = await setup()
      try {
        const before = new AbortController()
        before.abort()
        await expect(t.a.send('{"x":1}', { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' })
        const during = new AbortController()
        const big = seededBytes(t.duplex ? 4 * 1024 * 1024 : 100 * 1024, 5)
        const sending = t.a.send(big, {
          signal: during.signal,
          onProgress: (p) => {
            if (p.sentBytes > 0) during.abort()
          },
        })
        setTimeout(() => during.abort(), 5000)
        await expect(sending).rejects.toMatchObject({ name: 'AbortError' })
        await sendUntilReceived(
          t,
          '{"after":"abort"}',
          1,
          undefined,
          (r) => new TextDecoder().decode(r.data) === '{"after":"abort"}',
        )
      } finally {
        await t.cleanup()
      }
    })

    it('ends receive() when the transport closes', { timeout }, async () => {
      const t = await setup()
      await t.b.close()
      await t.inbox.done
      await t.cleanup()
      expect(t.inbox.ended).toBe(true)
    })

    it('ignores a garbage frame and still delivers the next message', { timeout }, async () => {
      const t = await setup()
      try {
        const mtu = t.pair.a.mtu
        for (const g of [
          seededBytes(Math.min(mtu, 64), 9),
          Uint8Array.of(0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
          Uint8Array.of(0xb3, 0, 0, 1, 2, 3, 4),
          new Uint8Array(Math.min(mtu, 30)).fill(0xa5),
        ]) {
          await t.pair.a.send(g)
        }
        await sendUntilReceived(t, '{"type":"after-garbage"}', 1)
        expect(t.inbox.items).toHaveLength(1)
      } finally {
        await t.cleanup()
      }
    })

    it('refuses an oversized message with ERR_MESSAGE_TOO_LARGE and delivers the next one', { timeout }, async () => {
      const t = await setup({ maxMessageBytes: 10_000 })
      try {
        if (t.duplex) {
          await expect(t.a.send(seededBytes(50_000, 11))).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
        } else {
          // A simplex sender cannot hear the refusal: the receiver drops it and says so.
          const dropped = new Promise<string>((resolve) => {
            t.inbox.onDrop = (code) => resolve(code)
          })
          const ac = new AbortController()
          const sending = t.a.send(seededBytes(50_000, 11), { signal: ac.signal }).catch(() => {})
          expect(await dropped).toBe('ERR_MESSAGE_TOO_LARGE')
          ac.abort()
          await sending
        }
        await sendUntilReceived(t, seededBytes(5_000, 12), 1)
        expect(t.inbox.items).toHaveLength(1)
        expect(t.inbox.items[0]?.data.length).toBe(5_000)
      } finally {
        await t.cleanup()
      }
    })

    it('sends both directions at once', { timeout }, async () => {
      const t = await setup()
      try {
        if (!t.duplex) return expect(t.duplex).toBe(false)
        const back = collect(t.a)
        const x = seededBytes(1024 * 1024, 21)
        const y = seededBytes(1024 * 1024 + 7, 22)
        await Promise.all([t.a.send(x), t.b.send(y)])
        await waitFor(() => t.inbox.items.length === 1 && back.items.length === 1)
        expect(equal(t.inbox.items[0]?.data, x)).toBe(true)
        expect(equal(back.items[0]?.data, y)).toBe(true)
      } finally {
        await t.cleanup()
      }
    })

    it('a receiver replaced mid-transfer (restarted, state lost): the send completes or fails typed, never hangs', {
      timeout,
    }, async () => {
      const pair = await duplexPair()
      if (!pair) return // a simplex channel has no receiver to lose state or to stay silent
      const a = createTransport(pair.a, { ...options.transportOptions, transferTimeoutMs: 15_000 })
      let b = createTransport(pair.b, { ...options.transportOptions, closeLink: false })
      let inbox = collect(b)
      try {
        const data = seededBytes(Math.min(options.largeMessageBytes ?? 2 * 1024 * 1024, 2 * 1024 * 1024), 41)
        let replaced = false
        const outcome = await a
          .send(data, {
            onProgress: (p) => {
              if (replaced || p.sentBytes < p.totalBytes / 3) return
              replaced = true
              void b.close()
              b = createTransport(pair.b, { ...options.transportOptions, closeLink: false })
              inbox = collect(b)
            },
          })
          .then(
            (report) => ({ report }),
            (error: { code?: string }) => ({ error }),
          )
        expect(replaced).toBe(true)
        if ('error' in outcome) {
          expect(['ERR_PEER_RESET', 'ERR_TRANSFER_TIMEOUT']).toContain(outcome.error.code)
        } else {
          expect(outcome.report.confirmed).toBe(true)
          await waitFor(() => inbox.items.length >= 1)
          expect(equal(inbox.items[0]?.data, data)).toBe(true)
        }
      } finally {
        await a.close()
        await b.close()
        await pair.b.close().catch(() => {})
        await pair.close?.()
      }
    })

    it('a silent receiver gets at most two windows of bytes, then the send rejects with ERR_TRANSFER_TIMEOUT', {
      timeout,
    }, async () => {
      const pair = await duplexPair()
      if (!pair) return // a simplex channel has no receiver to lose state or to stay silent
      const windowBytes = options.transportOptions?.windowBytes ?? 1024 * 1024
      let bytes = 0
      const link = pair.a
      const counted: Link = {
        get mtu() {
          return link.mtu
        },
        duplex: link.duplex,
        intact: link.intact,
        send: (frame, signal) => {
          bytes += frame.length
          return link.send(frame, signal)
        },
        onFrame: (h) => link.onFrame(h),
        close: () => link.close(),
      }
      // nobody reads pair.b: frames go into the channel and nothing comes back
      const a = createTransport(counted, { ...options.transportOptions, transferTimeoutMs: 6000 })
      try {
        await expect(a.send(seededBytes(4 * windowBytes, 43))).rejects.toMatchObject({ code: 'ERR_TRANSFER_TIMEOUT' })
        expect(bytes).toBeGreaterThan(0)
        expect(bytes).toBeLessThan(2 * windowBytes)
      } finally {
        await a.close()
        await pair.b.close().catch(() => {})
        await pair.close?.()
      }
    })

    if (options.interrupt === false) return
    it('resumes a transfer after the link drops and comes back, delivering it once', { timeout }, async () => {
      const t = await setup()
      try {
        expect(typeof t.pair.interrupt).toBe('function')
        const data = seededBytes(t.duplex ? 2 * 1024 * 1024 : 100 * 1024, 31)
        let interrupted: Promise<void> | undefined
        const onProgress = (p: { sentBytes: number; totalBytes: number }) => {
          if (!interrupted && p.sentBytes > p.totalBytes / 4) interrupted = t.pair.interrupt?.()
        }
        const report = await sendUntilReceived(t, data, 1, undefined, undefined, onProgress)
        await interrupted
        await waitFor(() => t.inbox.items.length >= 1)
        await settle()
        expect(interrupted).toBeDefined()
        expect(t.inbox.items).toHaveLength(1)
        expect(equal(t.inbox.items[0]?.data, data)).toBe(true)
        if (t.duplex) expect(report?.confirmed).toBe(true)
      } finally {
        await t.cleanup()
      }
    })
  })
}

type Setup = { a: Transport; inbox: Inbox; duplex: boolean }

/** Duplex: send and wait for delivery. Simplex: emit symbols until the receiver has it, then stop. */
async function sendUntilReceived(
  t: Setup,
  data: Uint8Array | string,
  expectedCount: number,
  mediaType?: string,
  match?: (r: Received) => boolean,
  onProgress?: (p: { sentBytes: number; totalBytes: number }) => void,
) {
  const arrived = () => (match ? t.inbox.items.some(match) : t.inbox.items.length >= expectedCount)
  if (t.duplex) {
    const report = await t.a.send(data, { mediaType, onProgress })
    await waitFor(arrived)
    return report
  }
  const ac = new AbortController()
  const sending = t.a.send(data, { mediaType, signal: ac.signal, onProgress }).catch((err: unknown) => {
    if ((err as Error).name !== 'AbortError') throw err
  })
  await waitFor(arrived)
  ac.abort()
  await sending
  return undefined
}

interface Inbox {
  items: Received[]
  ended: boolean
  done: Promise<void>
  onDrop?: (code: string) => void
}

function collect(t: Transport): Inbox {
  const inbox: Inbox = { items: [], ended: false, done: Promise.resolve() }
  inbox.done = (async () => {
    for await (const r of t.receive()) inbox.items.push(r)
    inbox.ended = true
  })()
  return inbox
}

async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('timed out waiting for the condition')
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Gives duplicates a chance to show up before counting deliveries. */
function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function equal(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
