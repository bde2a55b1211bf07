import type { ChildProcess } from 'node:child_process'

/** SIGTERM, up to `graceMs` to exit, then SIGKILL: how the tests stop the daemons they started. */
export async function stopChild(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))])
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
}
