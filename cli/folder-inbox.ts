import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Transport } from '../src/index.js'
import type { CliContext } from './registry.js'

export interface FolderInboxOptions {
  out: string
  /** Answer each message with these bytes… */
  reply?: Uint8Array
  /** …or with the message itself. */
  echo?: boolean
  /** Return after this many messages. */
  count?: number
}

/**
 * Writes each message the transport receives to OUT/message-NNNN.json|bin, prints it as a result,
 * and answers it when asked; returns after `count` messages (or when the transport closes).
 */
export async function receiveToFolder(
  transport: Transport,
  o: FolderInboxOptions,
  ctx: CliContext,
  command: string,
): Promise<void> {
  await mkdir(o.out, { recursive: true })
  let n = 0
  for await (const r of transport.receive()) {
    n++
    const path = join(o.out, `message-${String(n).padStart(4, '0')}.${r.mediaType.includes('json') ? 'json' : 'bin'}`)
    await writeFile(path, r.data)
    ctx.out.result(`received ${r.data.length} bytes → ${path}`, { command, path, bytes: r.data.length, mediaType: r.mediaType })
    const answer = o.echo ? r.data : o.reply
    if (answer) {
      // the peer may leave as soon as it has the answer: an unconfirmed answer is not a failure
      await transport
        .send(answer, { signal: AbortSignal.timeout(10_000) })
        .catch((err: Error) => ctx.out.info(`answer not confirmed by the peer: ${err.message}`))
    }
    if (o.count && n >= o.count) return
  }
}
