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

/** The result lines `carrier --json …` printed, parsed. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T)
}

/** The real `carrier` CLI. */
export function runCarrier(...args: string[]): Promise<RunResult> {
  return runTsx(['cli/entry.ts', ...args])
}

export interface RunningCarrier {
  pid: number
  /** stdout so far */
  stdout: () => string
  stderr: () => string
  /** Resolves with the first stdout line matching `re` (rejects if the process exits first). */
  line: (re: RegExp, timeoutMs?: number) => Promise<string>
  exited: Promise<number | null>
  kill: (signal?: NodeJS.Signals) => void
}

/** The real `carrier` CLI as a long-running child (a receiver, a server); its pid is node itself. */
export function startCarrier(...args: string[]): RunningCarrier {
  return startNode(['--import', 'tsx', 'cli/entry.ts', ...args])
}

/** A node child with these arguments (e.g. a compiled entry point), watched as startCarrier does. */
export function startNode(nodeArgs: string[]): RunningCarrier {
  const p = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  p.stdout.on('data', (d) => {
    stdout += d
    for (const w of waiters) w()
  })
  p.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((r) => p.once('exit', r))
  return {
    pid: p.pid as number,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal = 'SIGTERM') => p.kill(signal),
    line: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = stdout.split('\n').find((l) => re.test(l))
          if (hit === undefined) return
          done()
          resolve(hit)
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no line matching ${re} in ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        void exited.then((code) => {
          if (!waiters.has(check)) return
          done()
          reject(new Error(`carrier exited ${code} before printing ${re}; stderr: ${stderr}`))
        })
        check()
      }),
  }
}
