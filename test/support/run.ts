import { spawn } from 'node:child_process'

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * A TypeScript entry point as its own process, asynchronously — tests that run a broker in their
 * own process must keep answering while the child works (spawnSync would freeze them).
 */
export function runTsx(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The real `carrier` CLI. */
export function runCarrier(...args: string[]): Promise<RunResult> {
  return runTsx(['cli/entry.ts', ...args])
}
