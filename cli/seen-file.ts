import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { TEMP_PREFIX } from '../adapters/fs/save.js'
import { SeenIds } from '../src/agent/seen.js'

/** Where `carrier listen` keeps the ids it handed out, beside what it received (hidden, no .json suffix). */
export function seenFileOf(out: string): string {
  return join(out, `${TEMP_PREFIX}seen-ids`)
}

/**
 * The window of message ids a listener handed out, loaded from `file` (none, or unreadable: a fresh
 * one), and a way to keep it there: written at most every `everyMs` after a change, atomically
 * (temp file, then rename), and at close. A redelivered message is then dropped after a restart too.
 */
export async function keptSeenIds(
  file: string,
  everyMs = 200,
): Promise<{ seen: SeenIds; changed: () => void; close: () => Promise<void> }> {
  let entries: unknown
  try {
    entries = (JSON.parse(await readFile(file, 'utf8')) as { ids?: unknown }).ids
  } catch {
    entries = []
  }
  const seen = SeenIds.from(entries)
  let timer: ReturnType<typeof setTimeout> | undefined
  let writing = Promise.resolve()
  const save = () => {
    timer = undefined
    const text = JSON.stringify({ ids: seen.entries(), dropped: seen.dropped })
    writing = writing
      .then(async () => {
        await mkdir(dirname(file), { recursive: true })
        await writeFile(`${file}.tmp`, text)
        await rename(`${file}.tmp`, file)
      })
      .catch(() => {}) // a window not kept costs duplicates after a restart, never a message
    return writing
  }
  return {
    seen,
    changed: () => {
      timer ??= setTimeout(save, everyMs)
    },
    close: async () => {
      clearTimeout(timer)
      await save()
    },
  }
}
