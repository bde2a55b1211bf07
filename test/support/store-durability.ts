import { spawn } from 'node:child_process'
import { expect } from 'vitest'
import type { MessageStore } from '../../src/mediator/store.js'
import { messageData, RECIPIENT, receivedAt } from './store-messages.js'

export interface Producer {
  /** Ids the producer printed, i.e. whose enqueue had resolved. */
  acknowledged: () => string[]
  /** Resolves when at least n ids were printed. */
  printed: (n: number) => Promise<void>
  kill: () => Promise<void>
  exited: Promise<number | null>
  stderr: () => string
}

/** test/stores/enqueue-child.ts as its own process, enqueuing into the store at `uri`. */
export function startProducer(uri: string, count: number, inFlight = 32, prefix = 'm'): Producer {
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/stores/enqueue-child.ts', uri, String(count), String(inFlight), prefix],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  p.stdout.on('data', (d) => {
    out += d
    for (const w of waiters) w()
  })
  p.stderr.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
  // only complete lines: a line cut by the kill was not acknowledged
  const acknowledged = () => out.split('\n').slice(0, -1)
  return {
    acknowledged,
    stderr: () => err,
    exited,
    printed: (n) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (acknowledged().length >= n) {
            waiters.delete(check)
            resolve()
          }
        }
        waiters.add(check)
        exited.then(() => {
          check()
          if (acknowledged().length < n) reject(new Error(`producer exited after ${acknowledged().length} ids: ${err}`))
        })
        check()
      }),
    kill: async () => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
      await exited
    },
  }
}

/** Every acknowledged id is in the store with the producer's bytes. */
export async function expectAcknowledgedStored(store: MessageStore, ids: string[]): Promise<void> {
  const stored = new Map((await store.peek(RECIPIENT, 1_000_000)).map((m) => [m.id, m]))
  const missing = ids.filter((id) => !stored.has(id))
  expect(missing).toEqual([])
  for (const id of ids) {
    const i = Number(id.slice(id.lastIndexOf('-') + 1))
    const m = stored.get(id)
    expect(m?.receivedAt).toBe(receivedAt(i))
    expect(Buffer.compare(Buffer.from(m?.data ?? []), Buffer.from(messageData(i)))).toBe(0)
  }
}
