import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { DIDCommError } from '../../src/didcomm/errors.js'
import { ALG_ANON, type DecryptedJwe, decryptJwe } from '../../src/didcomm/jwe.js'
import type { Jwk } from '../../src/didcomm/keys.js'
import { CarrierError } from '../../src/transport.js'
import { startWorker } from './start-worker.js'

export interface DecryptPoolOptions {
  /** The private keys the pool opens anoncrypt envelopes for (a mediator's identity secrets). */
  secrets: (Jwk & { kid: string })[]
  /** Threads; default one less than the cores (at least one). */
  threads?: number
}

export interface DecryptPool {
  /** UnpackOptions.decrypt / AgentExtras.decrypt: decryptJwe's contract, anoncrypt on the pool's threads. */
  decrypt: typeof decryptJwe
  readonly threads: number
  /** Envelopes opened so far on the pool's threads, and on the caller's (authcrypt, keys it does not hold). */
  readonly opened: { onThreads: number; onCaller: number }
  close(): Promise<void>
}

interface Job {
  resolve: (d: DecryptedJwe) => void
  reject: (e: Error) => void
}

interface Thread {
  worker: Worker
  jobs: Map<number, Job>
}

type Answer = { id: number; value: DecryptedJwe } | { id: number; error: { code: string; message: string } }

/** The recipient kids of an anoncrypt JWE, or undefined for anything else (opened on the caller's thread). */
function anoncryptKids(jwe: Record<string, unknown>): string[] | undefined {
  if (typeof jwe.protected !== 'string') return undefined
  try {
    const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as { alg?: unknown }
    if (header.alg !== ALG_ANON) return undefined
  } catch {
    return undefined
  }
  const recipients = Array.isArray(jwe.recipients) ? jwe.recipients : [{ header: jwe.header }]
  return recipients.map((r: { header?: { kid?: unknown } } | null) => r?.header?.kid).filter((k) => typeof k === 'string')
}

/**
 * Anoncrypt decryption (a mediator's forwards) on worker threads, so one process opens envelopes
 * on several cores while its main thread serves HTTP and the store. What the pool holds no key
 * for, and authcrypt (its sender key needs the agent's resolver), is opened by decryptJwe on the
 * caller's thread, as without a pool. A thread that dies fails its jobs and is replaced.
 */
export function createDecryptPool(o: DecryptPoolOptions): DecryptPool {
  const size = Math.max(1, Math.floor(o.threads ?? availableParallelism() - 1))
  const kids = new Set(o.secrets.map((k) => k.kid))
  const secrets = o.secrets.map((k) => ({ ...k }))
  let nextId = 0
  let turn = 0
  let closed = false

  const fail = (t: Thread, e: Error) => {
    for (const job of t.jobs.values()) job.reject(e)
    t.jobs.clear()
  }
  const spawn = (): Thread => {
    const t: Thread = { worker: startWorker('./decrypt-worker', import.meta.url, { secrets }), jobs: new Map() }
    t.worker.unref() // held only while it has work: an idle pool never keeps the process alive
    t.worker.on('message', (a: Answer) => {
      const job = t.jobs.get(a.id)
      if (!job) return
      t.jobs.delete(a.id)
      if (t.jobs.size === 0) t.worker.unref()
      if ('error' in a) job.reject(new DIDCommError(a.error.code, a.error.message))
      else job.resolve(a.value)
    })
    t.worker.on('error', (e) => fail(t, new CarrierError('ERR_DECRYPT_POOL', `a decryption thread failed: ${e.message}`)))
    t.worker.on('exit', () => {
      fail(t, new CarrierError('ERR_DECRYPT_POOL', 'a decryption thread exited'))
      const i = threads.indexOf(t)
      if (!closed && i >= 0) threads[i] = spawn()
    })
    return t
  }
  const threads = Array.from({ length: size }, spawn)

  const opened = { onThreads: 0, onCaller: 0 }
  return {
    threads: size,
    opened,
    async decrypt(jwe, options) {
      const mine = anoncryptKids(jwe)?.some((k) => kids.has(k))
      if (!mine || closed) {
        opened.onCaller++
        return decryptJwe(jwe, options)
      }
      opened.onThreads++
      // the least busy thread; ties go round
      turn = (turn + 1) % threads.length
      let t = threads[turn] as Thread
      for (const c of threads) if (c.jobs.size < t.jobs.size) t = c
      const id = nextId++
      return new Promise<DecryptedJwe>((resolve, reject) => {
        t.jobs.set(id, { resolve, reject })
        if (t.jobs.size === 1) t.worker.ref()
        t.worker.postMessage({ id, jwe })
      })
    },
    async close() {
      closed = true
      await Promise.all(threads.map((t) => t.worker.terminate()))
    },
  }
}
