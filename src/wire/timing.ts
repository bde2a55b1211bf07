import { AbortError } from '../transport.js'

/** A sleep that ends early on wake() or abort: how a sender waits for the receiver's next word. */
export class Waker {
  private pending: (() => void) | undefined

  wake(): void {
    const p = this.pending
    this.pending = undefined
    p?.()
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(signal.reason))
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.pending = undefined
        resolve()
      }
      const onAbort = () => {
        clearTimeout(timer)
        this.pending = undefined
        reject(new AbortError(signal?.reason))
      }
      const timer = setTimeout(done, Math.max(0, ms))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending = done
    })
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Waker().wait(ms, signal)
}

/** Lets timers and I/O run between frames when a link accepts frames without ever waiting. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown }
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)))
}

export function unrefTimer(t: unknown): void {
  ;(t as { unref?: () => void }).unref?.()
}
