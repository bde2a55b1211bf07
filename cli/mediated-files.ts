import { fetchBlob, pendingShares } from '../adapters/fs/blob-fetch.js'
import { writeNew } from '../adapters/fs/save.js'
import { routedThrough, sendViaMediator } from '../adapters/fs/send-via-mediator.js'
import { blobAccess } from '../adapters/http/blob-client.js'
import type { Agent } from '../src/agent.js'
import type { DIDDocument } from '../src/did/document.js'
import type { Message } from '../src/didcomm/pack.js'
import { isEncryptedShare, parseShare } from '../src/files/share.js'
import { loadIdentity, resolverWith } from './identity.js'
import type { CliContext } from './registry.js'

/**
 * `carrier send-file` to a DID routed through a mediator: the file waits there for the recipient
 * (docs/FILES.md "Blobs at the mediator"). Resolves false when `to` is not routed through one.
 */
export async function sendFileViaMediator(
  agent: Agent,
  file: string,
  o: { identity: string; to: string; name?: string; mediaType: string },
  ctx: CliContext,
): Promise<boolean> {
  const resolver = resolverWith((await loadIdentity(o.identity)).document as DIDDocument)
  if (!(await routedThrough(o.to, resolver))) return false
  let bar: ReturnType<CliContext['out']['transfer']> | undefined
  const r = await sendViaMediator(agent, resolver, file, {
    to: o.to,
    filename: o.name,
    mediaType: o.mediaType,
    onProgress: (held, total) => {
      bar ??= ctx.out.transfer('upload', total, { command: 'send-file', file: o.name ?? file })
      bar.update(held, total)
    },
    onRetry: (e) => retried(ctx, 'send-file', e),
  }).finally(() => bar?.stop())
  ctx.out.event(
    'queued',
    { command: 'send-file', file: r.filename, to: o.to, ...r },
    `queued ${r.filename} (${r.bytes} bytes, encrypted) for ${o.to} at ${r.mediator}: it waits there until the recipient fetches it`,
  )
  return true
}

/**
 * `carrier listen --mediator`: a share-media whose ciphertext waits at our mediator is fetched,
 * verified and decrypted into the folder (adapters/fs/blob-fetch.ts), then confirmed so the
 * mediator deletes it. `resume()` finishes the downloads a previous run left.
 */
export function mediatedFiles(agent: Agent, mediatorDid: string, o: { dir: string; maxFileBytes: number }, ctx: CliContext) {
  async function take(message: Message, from: string | undefined, authenticated: boolean): Promise<void> {
    const share = parseShare(message)
    let bar: ReturnType<CliContext['out']['transfer']> | undefined
    const got = await fetchBlob({
      dir: o.dir,
      message,
      from,
      access: blobAccess(agent, mediatorDid, { op: 'get', hash: share.cipherSha256 }),
      maxFileBytes: o.maxFileBytes,
      onProgress: (bytes, total) => {
        bar ??= ctx.out.transfer(`receive ${share.filename}`, total, { file: share.filename })
        bar.update(bytes, total)
      },
      onRetry: (e) => retried(ctx, 'listen', e),
    }).finally(() => bar?.stop())
    // the message as kept in the folder: the file it became, never the key
    const stored = {
      ...message,
      body: { ...message.body, items: [{ '@id': share.id, metadata: { size: share.plainBytes, sha256: share.plainSha256 } }] },
      attachments: message.attachments?.map((a) => ({ ...a, data: { ...a.data, links: [encodeURIComponent(got.name)] } })),
    }
    await writeNew(o.dir, `${message.id}.json`, new TextEncoder().encode(`${JSON.stringify(stored, null, 2)}\n`), 'message.json')
    ctx.out.event(
      'file',
      { command: 'listen', name: got.name, sentName: share.filename, bytes: got.bytes, sha256: got.sha256, from: from ?? null },
      undefined,
    )
    ctx.out.event(
      'message',
      { command: 'listen', id: message.id, type: message.type, from: from ?? null, files: [got.name], authenticated },
      `${message.id} ${message.type} from ${from ?? '(anonymous)'}, file: ${got.name} (${got.bytes} bytes, SHA-256 checked)`,
    )
  }
  return {
    /** True when the message was a share this fetched (it counts as one message). */
    async handle(message: Message, from: string | undefined, authenticated: boolean): Promise<boolean> {
      if (!isEncryptedShare(message) || !parseShare(message).links.some((l) => /^https?:/.test(l))) return false
      await take(message, from, authenticated)
      return true
    },
    /** Downloads a previous run left unfinished; resolves to how many files it placed. */
    async resume(): Promise<number> {
      let n = 0
      for (const p of await pendingShares(o.dir)) {
        await take(p.message, p.from, true)
        n++
      }
      return n
    },
  }
}

/** A failed exchange with the mediator (down, restarting), tried again after a back-off. */
function retried(ctx: CliContext, command: string, e: { attempt: number; error: unknown; delayMs: number }): void {
  const reason = String((e.error as Error)?.message ?? e.error).split('\n')[0]
  ctx.out.event('retry', { command, attempt: e.attempt, delayMs: e.delayMs, reason }, undefined)
  ctx.out.info(`the mediator did not answer (${reason}): again in ${e.delayMs} ms`)
}
