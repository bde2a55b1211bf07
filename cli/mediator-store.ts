import { MemoryMessageStore } from '../src/mediator/memory-store.js'
import type { MessageStore } from '../src/mediator/store.js'

/**
 * The mediator's store from a URI: `memory:` (lost on exit), `sqlite:FILE` (embedded, survives
 * kill -9), `postgres://…` (several mediator instances on one queue). One place opens them all.
 */
export async function openStore(uri: string): Promise<MessageStore> {
  if (uri === 'memory:') return new MemoryMessageStore()
  if (uri.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(uri))
    throw new Error(`store ${uri.split(':')[0]}: is not available in this build (use memory:)`)
  throw new Error(`unknown store ${uri}: give memory:, sqlite:FILE or postgres://…`)
}
