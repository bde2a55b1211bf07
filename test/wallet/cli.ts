import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

// carrier commands run by the wallet tests, from the source tree (--json: one JSON line per event)
const CLI = ['--import', 'tsx', 'cli/entry.ts']
/** A carrier command run to its end (not spawnSync: the embedded broker lives in this process). */
export function carrier(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [...CLI, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  proc.stdout?.on('data', (d) => {
    stdout += d
  })
  proc.stderr?.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve) => proc.once('close', (status) => resolve({ status, stdout, stderr })))
}

/** A long-running carrier command; `next(want)` resolves with the first JSON line `want` accepts. */
export function daemon(...args: string[]): {
  proc: ChildProcess
  next: (want: (e: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>
} {
  const proc = spawn(process.execPath, [...CLI, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d) => {
    stderr += d
  })
  const events: Record<string, unknown>[] = []
  const waiting: { want: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = []
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const e = JSON.parse(l) as Record<string, unknown>
    events.push(e)
    for (const w of waiting.splice(0))
      if (w.want(e)) w.resolve(e)
      else waiting.push(w)
  })
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`carrier ${args[0]} exited ${code}: ${stderr}`))),
  )
  exited.catch(() => undefined)
  return {
    proc,
    next: (want) => {
      const seen = events.find(want)
      if (seen) return Promise.resolve(seen)
      return Promise.race([new Promise<Record<string, unknown>>((resolve) => waiting.push({ want, resolve })), exited])
    },
  }
}
