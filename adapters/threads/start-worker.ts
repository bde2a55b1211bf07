import { Worker } from 'node:worker_threads'

/**
 * A worker thread for `module`, named as this package holds it: compiled JavaScript in the package;
 * TypeScript in a source checkout (tsx, vitest), where the worker registers tsx first (dev-boot.mjs).
 */
export function startWorker(module: string, from: string, workerData: Record<string, unknown>): Worker {
  const entry = new URL(`${module}${from.endsWith('.ts') ? '.ts' : '.js'}`, from)
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData })
  return new Worker(new URL('./dev-boot.mjs', import.meta.url), { workerData: { ...workerData, entry: entry.href } })
}
