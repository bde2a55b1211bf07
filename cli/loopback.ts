import { createTransport, type Received, type SendReport } from '../src/index.js'
import { memoryLinkPair } from '../src/testing/memory-link.js'

export interface LoopbackResult {
  link: string
  envelopeBytes: number
  frames: number
  seconds: number
  kbPerSecond: number
  /** Duplex only: a simplex sender never learns that the receiver has the message. */
  report?: SendReport
  received: Received
}

/**
 * Sends bytes through the core over an in-memory link with loss: the wire without any radio.
 * Duplex links use the reliable session, simplex ones the fountain session.
 */
export async function loopback(
  data: Uint8Array,
  o: { mtu: number; loss: number; simplex: boolean; seed?: number; onProgress?: (done: number, total: number) => void },
): Promise<LoopbackResult> {
  const pair = memoryLinkPair({ mtu: o.mtu, loss: o.loss, duplex: !o.simplex, seed: o.seed ?? 1 })
  let decoded = false
  const rx = createTransport(pair.b, {
    onProgress: o.simplex
      ? (p) => {
          if (p.received === p.total) decoded = true
          o.onProgress?.(p.received, p.total)
        }
      : undefined,
  })
  const tx = createTransport(pair.a)
  // Simplex: what counts is how many frames the receiver needed, not how many the sender pushed.
  let seenByReceiver = 0
  pair.b.onFrame(() => {
    if (!decoded) seenByReceiver++
  })
  const started = performance.now()
  const arrived = (async () => {
    for await (const r of rx.receive()) return r
    throw new Error('receiver closed before the message arrived')
  })()
  let report: SendReport | undefined
  if (o.simplex) {
    // A simplex sender runs until stopped; stop it once the receiver has the message.
    const ac = new AbortController()
    const sending = tx.send(data, { signal: ac.signal }).catch((err: Error) => {
      if (err.name !== 'AbortError') throw err
    })
    await arrived
    ac.abort()
    await sending
  } else {
    report = await tx.send(data, { onProgress: (p) => o.onProgress?.(p.sentBytes, p.totalBytes) })
  }
  const received = await arrived
  const seconds = (performance.now() - started) / 1000
  await tx.close()
  await rx.close()
  return {
    link: `${o.simplex ? 'simplex/fountain' : 'duplex/reliable'} mtu=${o.mtu} loss=${o.loss}`,
    envelopeBytes: data.length,
    frames: o.simplex ? seenByReceiver : pair.counters.frames[0] + pair.counters.frames[1],
    seconds,
    kbPerSecond: data.length / 1024 / seconds,
    report,
    received,
  }
}
