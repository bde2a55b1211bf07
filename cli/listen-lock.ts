import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { CarrierError } from '../src/transport.js'

/** Another `carrier listen` receives for this identity: a second one would split its inbox. */
export class InboxLockedError extends CarrierError {
  constructor(message: string) {
    super('ERR_INBOX_LOCKED', message)
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One inbox, one listener: a lock file beside the identity file holding our pid, created
 * exclusively. A lock whose pid is gone (the listener was killed) is taken over; a live one is
 * refused with the pid. Released when the process exits.
 */
export function lockInbox(identityFile: string): () => void {
  const path = `${identityFile}.listen.lock`
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let pid = Number.NaN
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
      } catch {}
      // a lock being written this instant reads empty: look again once before calling it stale
      if (Number.isInteger(pid) && pid > 0 && alive(pid) && pid !== process.pid)
        throw new InboxLockedError(
          `another carrier listen (pid ${pid}) is receiving for ${identityFile}: two listeners would split its inbox. ` +
            `Stop that one first (if pid ${pid} is not a carrier listen, remove ${path})`,
        )
      if (attempt >= 2) throw new InboxLockedError(`cannot take the listen lock ${path}`)
      if (!Number.isInteger(pid) && attempt === 0) continue
      try {
        unlinkSync(path) // stale: its listener died
      } catch {}
    }
  }
  let held = true
  const release = () => {
    if (!held) return
    held = false
    process.off('exit', release)
    try {
      if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path)
    } catch {}
  }
  process.once('exit', release)
  return release
}
