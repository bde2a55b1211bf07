import { describe, expect, it } from 'vitest'
import { type CarrierError, createTransport, type Link, type Received } from '../../src/index.js'
import { memoryLinkPair, seededBytes } from '../../src/testing/index.js'
import { decodeControl, encodeData, encodeReport, T_FORGOT, T_REJECT, T_START } from '../../src/wire/frame.js'
import { until } from '../support/until.js'

function collect(t: { receive(): AsyncIterable<Received> }) {
  const items: Received[] = []
  const done = (async () => {
    for await (const r of t.receive()) items.push(r)
  })()
  return { items, done }
}

function equal(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i])
}

/** Frames the receiving side puts on the link, decoded (control frames only). */
function watchControls(link: Link) {
  const seen: number[] = []
  const send = link.send.bind(link)
  ;(link as { send: Link['send'] }).send = (frame, signal) => {
    const c = decodeControl(frame)
    if (c) seen.push(c.type)
    return send(frame, signal)
  }
  return seen
}

describe('a receiver that lost its state (wire 1.1: FORGOT, START with RESUME, REJECT 6)', () => {
  it('a receiver replaced mid-transfer: the sender starts over and the message arrives once, byte-exact', async () => {
    const pair = memoryLinkPair({ mtu: 512, seed: 3 })
    const controls = watchControls(pair.b)
    const a = createTransport(pair.a, { transferTimeoutMs: 10_000 })
    const first = createTransport(pair.b, { closeLink: false })
    const firstInbox = collect(first)
    const data = seededBytes(3 * 1024 * 1024, 77)
    let second: ReturnType<typeof createTransport> | undefined
    let secondInbox: ReturnType<typeof collect> | undefined
    const report = await a.send(data, {
      onProgress: (p) => {
        if (second || p.sentBytes < p.totalBytes / 3) return
        // the listener dies with what it held; a fresh one comes up on the same link
        void first.close()
        second = createTransport(pair.b)
        secondInbox = collect(second)
      },
    })
    expect(second).toBeDefined()
    expect(report.restarts).toBe(1)
    expect(report.confirmed).toBe(true)
    await until(() => secondInbox?.items.length === 1)
    expect(firstInbox.items).toHaveLength(0)
    expect(equal(secondInbox?.items[0]?.data, data)).toBe(true)
    // the fresh receiver said it held nothing: FORGOT for the DATA, REJECT 6 for the resumed START
    expect(controls).toContain(T_FORGOT)
    expect(controls).toContain(T_REJECT)
    await a.close()
    await second?.close()
  })

  it('answers a flood of DATA for a slot it holds nothing in with a trickle of FORGOTs', async () => {
    const pair = memoryLinkPair({ mtu: 512 })
    const controls = watchControls(pair.b)
    const b = createTransport(pair.b)
    const started = Date.now()
    for (let i = 0; i < 5000; i++) await pair.a.send(encodeData(5, 1234, i, false, seededBytes(100, i)))
    const elapsed = Date.now() - started
    const forgots = controls.filter((t) => t === T_FORGOT).length
    expect(forgots).toBeGreaterThanOrEqual(1)
    expect(forgots).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 20))
    expect(controls.every((t) => t === T_FORGOT)).toBe(true)
    await b.close()
  })

  it('a receiver that keeps losing its state: the send rejects with ERR_PEER_RESET, never hangs', async () => {
    const pair = memoryLinkPair({ mtu: 512, seed: 4 })
    const a = createTransport(pair.a, { transferTimeoutMs: 10_000 })
    let b = createTransport(pair.b, { closeLink: false })
    let replaced = 0
    let lastSent = 0
    const error = await a
      .send(seededBytes(2 * 1024 * 1024, 78), {
        onProgress: (p) => {
          // every fresh transfer gets a fresh receiver once a quarter is acknowledged
          if (p.sentBytes < lastSent) lastSent = 0
          if (p.sentBytes > p.totalBytes / 4 && lastSent <= p.totalBytes / 4) {
            void b.close()
            b = createTransport(pair.b, { closeLink: false })
            replaced++
          }
          lastSent = p.sentBytes
        },
      })
      .then(
        () => undefined,
        (e: CarrierError) => e,
      )
    expect(error?.code).toBe('ERR_PEER_RESET')
    expect(replaced).toBe(4) // the first attempt and three restarts
    await a.close()
    await b.close()
    await pair.b.close()
  })

  it('an old-style receiver that answers every START afresh cannot livelock the sender: idle time-out', async () => {
    const pair = memoryLinkPair({ mtu: 512, seed: 5 })
    const a = createTransport(pair.a, { transferTimeoutMs: 1500 })
    // answers each START with "nothing received yet", as a receiver that restarts for every probe
    pair.b.onFrame((f) => {
      const c = decodeControl(f)
      if (c?.type === T_START) void pair.b.send(encodeReport({ tid: c.tid, base: 0, credit: 64, bitmap: new Uint8Array() }, 512))
    })
    const started = Date.now()
    await expect(a.send(seededBytes(200_000, 79))).rejects.toMatchObject({ code: 'ERR_TRANSFER_TIMEOUT' })
    // bounded by its time-outs, whatever the peer does (generous bound: never a hang)
    expect(Date.now() - started).toBeLessThan(60_000)
    await a.close()
  })

  it('a silent receiver gets one window and probes: under two windows on the link in 30 s, then ERR_TRANSFER_TIMEOUT', {
    timeout: 90_000,
  }, async () => {
    const pair = memoryLinkPair({ mtu: 1024, seed: 6 })
    const windowBytes = 1024 * 1024
    const a = createTransport(pair.a, { windowBytes })
    const started = Date.now()
    const error = await a.send(seededBytes(16 * 1024 * 1024, 80)).then(
      () => undefined,
      (e: CarrierError) => e,
    )
    const elapsed = Date.now() - started
    expect(error?.code).toBe('ERR_TRANSFER_TIMEOUT')
    expect(elapsed).toBeGreaterThanOrEqual(30_000)
    const sent = pair.counters.bytes[0]
    console.log(`silent receiver: ${sent} bytes on the link in ${elapsed} ms (window ${windowBytes})`)
    expect(sent).toBeLessThan(2 * windowBytes)
    expect(sent).toBeGreaterThan(windowBytes * 0.9) // the optimistic first window did go out
    await a.close()
  })

  it('a receiver that goes silent mid-transfer: under two windows more on the link, then ERR_TRANSFER_TIMEOUT', async () => {
    const pair = memoryLinkPair({ mtu: 1024, seed: 8 })
    const windowBytes = 1024 * 1024
    const a = createTransport(pair.a, { windowBytes, transferTimeoutMs: 10_000 })
    const b = createTransport(pair.b, { closeLink: false })
    let atSilence: number | undefined
    const error = await a
      .send(seededBytes(16 * 1024 * 1024, 82), {
        onProgress: (p) => {
          if (atSilence !== undefined || p.sentBytes < p.totalBytes / 4) return
          atSilence = pair.counters.bytes[0]
          void b.close() // nobody reads the link any more
        },
      })
      .then(
        () => undefined,
        (e: CarrierError) => e,
      )
    expect(error?.code).toBe('ERR_TRANSFER_TIMEOUT')
    expect(atSilence).toBeDefined()
    const after = pair.counters.bytes[0] - (atSilence as number)
    console.log(`receiver silent mid-transfer: ${after} bytes more on the link (window ${windowBytes})`)
    expect(after).toBeLessThan(2 * windowBytes)
    await a.close()
  })

  it('the overall time-out bounds a send that makes progress too slowly', async () => {
    const pair = memoryLinkPair({ mtu: 256, seed: 7, latencyMs: 20 })
    const a = createTransport(pair.a, { sendTimeoutMs: 800, windowBytes: 4096 })
    const b = createTransport(pair.b)
    await expect(a.send(seededBytes(4 * 1024 * 1024, 81))).rejects.toMatchObject({
      code: 'ERR_TRANSFER_TIMEOUT',
      message: expect.stringMatching(/did not complete within 800 ms/),
    })
    // a per-send timeoutMs overrides it, and the session still works afterwards
    await expect(a.send('{"id":"1","type":"t"}', { timeoutMs: 30_000 })).resolves.toMatchObject({ confirmed: true })
    await a.close()
    await b.close()
  })
})

describe('bare JSON frames', () => {
  it('delivers only a whole, parseable DIDComm envelope; JSON-looking garbage is counted and dropped', async () => {
    const pair = memoryLinkPair({ mtu: 1000 })
    const b = createTransport(pair.b)
    const inbox = collect(b)
    const enc = new TextEncoder()
    const garbage = [
      '{',
      '{"protected":"eyJ","ciphertext":"c"', // cut short
      '{"a":1}', // JSON, but no envelope
      '{"protected":"eyJ","ciphertext":"c"}', // a JWE without iv, tag or recipients
      '{"payload":"e30"}', // a JWS without signatures
      '{"type":"x"}', // a plaintext without id
      '[{"id":"1","type":"t"}]', // an array
      ' {"id":1,"type":"t"}', // id not a string
    ]
    for (const g of garbage) await pair.a.send(enc.encode(g))
    await pair.a.send(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)) // not UTF-8
    const plain = '{"id":"1","type":"https://didcomm.org/trust-ping/2.0/ping","body":{}}'
    const signed = '{"payload":"e30","signatures":[{"protected":"eyJ","signature":"s"}]}'
    await pair.a.send(enc.encode(plain))
    await pair.a.send(enc.encode(signed))
    await until(() => inbox.items.length === 2)
    expect(inbox.items.map((r) => [new TextDecoder().decode(r.data), r.mediaType])).toEqual([
      [plain, 'application/didcomm-plain+json'],
      [signed, 'application/didcomm-signed+json'],
    ])
    expect(b.stats().framesIgnored).toBe(garbage.length + 1)
    await b.close()
  })
})
