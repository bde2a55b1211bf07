// The scanner page: camera (getUserMedia) → frames to a decoder Worker (skipped while it is busy) →
// the core's fountain receiver → the envelope offered as a download and to a callback.
import { createTransport } from '../../../src/wire/create-transport.js'
import { QrFrameLink } from '../link.js'
import { startCameraLoop } from './camera-loop.js'

export interface ScannedMessage {
  data: Uint8Array
  mediaType: string
  sha256: string
}

export interface ScannerApi {
  /** Called with every message received (set it from the embedding page). */
  onMessage?: (m: ScannedMessage) => void
  readonly messages: ScannedMessage[]
  readonly stats: { frames: number; skipped: number; decoded: number; rank: number; k: number; decodeMs: number }
}

declare global {
  interface Window {
    carrierScanner: ScannerApi
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const stats = { frames: 0, skipped: 0, decoded: 0, rank: 0, k: 0, decodeMs: 0 }
const api: ScannerApi = { messages: [], stats }
window.carrierScanner = api

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

function showProgress(): void {
  const bar = $<HTMLProgressElement>('progress')
  bar.max = Math.max(stats.k, 1)
  bar.value = stats.rank
  $('status').textContent = stats.k
    ? `${stats.rank}/${stats.k} symbols · ${stats.decoded} codes read · ${stats.skipped} camera frames skipped while decoding`
    : `looking for codes… (${stats.frames} camera frames)`
}

async function receiveLoop(link: QrFrameLink): Promise<void> {
  const transport = createTransport(link, {
    onProgress: (p) => {
      stats.rank = p.received
      stats.k = p.total
      showProgress()
    },
  })
  for await (const m of transport.receive()) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', m.data as Uint8Array<ArrayBuffer>))
    const msg: ScannedMessage = { data: m.data, mediaType: m.mediaType, sha256: hex(digest) }
    api.messages.push(msg)
    const url = URL.createObjectURL(new Blob([m.data as Uint8Array<ArrayBuffer>], { type: m.mediaType }))
    const a = document.createElement('a')
    a.href = url
    a.download = m.mediaType.includes('json') ? `message-${api.messages.length}.json` : `message-${api.messages.length}.bin`
    a.textContent = `${a.download} (${m.data.length} bytes, ${m.mediaType}, SHA-256 ${msg.sha256.slice(0, 16)}…)`
    const li = document.createElement('li')
    li.append(a)
    $('received').append(li)
    api.onMessage?.(msg)
    window.dispatchEvent(new CustomEvent('carrier-message', { detail: msg }))
  }
}

async function start(): Promise<void> {
  const link = new QrFrameLink()
  void receiveLoop(link)
  await startCameraLoop($<HTMLVideoElement>('video'), {
    video: { width: { ideal: 1280 }, height: { ideal: 720 } },
    onFrame: (skipped) => {
      stats.frames++
      if (skipped) stats.skipped++
    },
    onReply: (reply) => {
      stats.decodeMs = reply.ms
      if (reply.bytes) {
        stats.decoded++
        link.feedDecoded(reply.bytes)
      }
      showProgress()
    },
  })
  showProgress()
}

start().catch((err: Error) => {
  $('status').textContent = `camera: ${err.name === 'NotAllowedError' ? 'permission refused' : err.message}`
})
