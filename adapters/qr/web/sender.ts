// The sender page: a file or a pasted envelope → an endless fountain-coded stream of QR codes drawn
// on a canvas at the chosen rate and size. The core's fountain session does the coding.
import { createTransport } from '../../../src/wire/create-transport.js'
import { SYMBOL_OVERHEAD } from '../../../src/wire/frame.js'
import { drawModules } from '../canvas.js'
import { byteCapacity, defaultVersion, type Ecc } from '../capacity.js'
import { type QrCode, QrDisplayLink } from '../link.js'

export interface SenderApi {
  /** Called after each code is drawn (set it from the embedding page or a test). */
  onCode?: (code: QrCode, index: number) => void
  start(): Promise<void>
  stop(): void
  readonly shown: number
}

declare global {
  interface Window {
    carrierSender: SenderApi
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
let running: AbortController | undefined
let shown = 0

async function payload(): Promise<{ data: Uint8Array; mediaType?: string } | undefined> {
  const file = $<HTMLInputElement>('file').files?.[0]
  if (file) return { data: new Uint8Array(await file.arrayBuffer()), mediaType: file.type || undefined }
  const text = $<HTMLTextAreaElement>('envelope').value.trim()
  return text ? { data: new TextEncoder().encode(text) } : undefined
}

async function start(): Promise<void> {
  stop()
  const p = await payload()
  if (!p) {
    $('status').textContent = 'pick a file or paste an envelope first'
    return
  }
  const chosen = Number.parseInt($<HTMLSelectElement>('version').value, 10)
  const version = Number.isInteger(chosen) ? chosen : defaultVersion(p.data.length)
  const ecc = $<HTMLSelectElement>('ecc').value as Ecc
  const fps = Math.max(1, Number.parseFloat($<HTMLInputElement>('fps').value) || 10)
  const canvas = $<HTMLCanvasElement>('qr')
  canvas.width = canvas.height = Math.max(200, Number.parseInt($<HTMLInputElement>('size').value, 10) || 640)
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D
  const ac = new AbortController()
  running = ac
  shown = 0
  const k = Math.ceil(p.data.length / (byteCapacity(version, ecc) - SYMBOL_OVERHEAD))
  const link = new QrDisplayLink({
    version,
    ecc,
    show: async (code, signal) => {
      drawModules(ctx, code)
      shown++
      $('status').textContent = `code ${shown} · QR v${version}-${ecc} · ${fps} codes/s · a receiver needs about ${k}`
      window.carrierSender.onCode?.(code, shown)
      await new Promise((r) => setTimeout(r, 1000 / fps))
      signal?.throwIfAborted()
    },
  })
  try {
    await createTransport(link).send(p.data, { signal: ac.signal, mediaType: p.mediaType })
  } catch (err) {
    if ((err as Error).name !== 'AbortError') $('status').textContent = `error: ${(err as Error).message}`
  }
}

function stop(): void {
  running?.abort()
  running = undefined
}

window.carrierSender = {
  start,
  stop,
  get shown() {
    return shown
  },
}
$('start').addEventListener('click', () => void start())
$('stop').addEventListener('click', stop)
