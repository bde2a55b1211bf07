import type { Worker } from 'node:worker_threads'
import { CarrierError, type Link, LinkClosedError } from '../../src/transport.js'
import { startWorker } from '../threads/start-worker.js'
import type { AppletOptions } from './applet.js'

/**
 * A VpcdCard holding a CardApplet on a worker thread, for a process that is the reader too (the
 * demo, tests): the card answers pcscd even while the main thread is busy or blocked, so the reader
 * never waits on the thread it blocks. `link` is the applet's Link on the main thread —
 * `createTransport(thread.link)` sends and receives as `createTransport(applet)` would.
 */
export class VpcdCardThread {
  readonly link: Link
  private readonly handlers = new Set<(f: Uint8Array) => void>()
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()
  private nextId = 0
  private linkClosed = false

  private constructor(
    private readonly worker: Worker,
    mtu: number,
  ) {
    worker.on('message', (m: { frame?: Uint8Array; id?: number; error?: { code: string; message: string } }) => {
      if (m.frame) {
        if (!this.linkClosed) for (const h of this.handlers) h(new Uint8Array(m.frame))
        return
      }
      const p = this.pending.get(m.id as number)
      this.pending.delete(m.id as number)
      if (m.error) p?.reject(new CarrierError(m.error.code, m.error.message))
      else p?.resolve()
    })
    const gone = (why: string) => {
      for (const p of this.pending.values()) p.reject(new CarrierError('ERR_VPCD_THREAD', why))
      this.pending.clear()
    }
    worker.on('error', (e) => gone(`the card's thread failed: ${e.message}`))
    worker.on('exit', () => gone("the card's thread exited"))
    const self = this
    this.link = {
      duplex: true,
      mtu,
      // resolves once the card's thread holds the frame (as CardApplet.send does once it is queued)
      async send(frame) {
        if (self.linkClosed) throw new LinkClosedError()
        await self.call('send', frame)
      },
      onFrame(handler) {
        self.handlers.add(handler)
        return () => self.handlers.delete(handler)
      },
      async close() {
        self.linkClosed = true
        self.handlers.clear()
        await self.call('close').catch(() => {})
      },
    }
  }

  /** Starts the thread (the card is not in the field yet: insert()). */
  static start(o: { host?: string; port?: number; applet?: AppletOptions } = {}): VpcdCardThread {
    return new VpcdCardThread(startWorker('./vpcd-thread-worker', import.meta.url, { ...o }), o.applet?.mtu ?? 4096)
  }

  /** The card enters the field (connects to vpcd); rejects with ERR_VPCD_UNREACHABLE as VpcdCard does. */
  insert(): Promise<void> {
    return this.call('insert')
  }

  /** The card leaves the field. */
  remove(): Promise<void> {
    return this.call('remove')
  }

  /** Lifts the card and ends the thread. */
  async close(): Promise<void> {
    await this.remove().catch(() => {})
    await this.worker.terminate()
  }

  private call(op: 'insert' | 'remove' | 'close' | 'send', frame?: Uint8Array): Promise<void> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, op, frame })
    })
  }
}
