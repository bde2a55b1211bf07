import type { BlobStore } from '../src/mediator/blob-store.js'
import { MemoryBlobStore } from '../src/mediator/memory-blob-store.js'
import { MemoryMessageStore } from '../src/mediator/memory-store.js'
import type { MessageStore } from '../src/mediator/store.js'
import { StoreUriError } from './errors.js'
import { PostgresMessageStore, type PostgresStoreOptions } from './postgres/index.js'
import { SqliteMessageStore, type SqliteStoreOptions } from './sqlite/index.js'

export * from '../src/mediator/blob-store.js'
export { MemoryBlobStore } from '../src/mediator/memory-blob-store.js'
export { MemoryMessageStore } from '../src/mediator/memory-store.js'
export * from '../src/mediator/store.js'
export { StoreFailedError, StoreUriError } from './errors.js'
export { PostgresMessageStore, type PostgresStoreOptions } from './postgres/index.js'
export { SqliteMessageStore, type SqliteStoreOptions } from './sqlite/index.js'

export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions
  /** Pool settings besides the URI's (ssl, maxConnections, …). */
  postgres?: Omit<PostgresStoreOptions, 'connectionString' | 'schema'>
}

/**
 * Opens the store a URI names: `memory:` (not durable), `sqlite:FILE` (a path; `sqlite:///abs`
 * works too) or `postgres://…` / `postgresql://…` (a libpq connection URI; `?schema=NAME` picks the
 * schema holding the tables, default `carrier`).
 */
export async function openStore(uri: string, options: OpenStoreOptions = {}): Promise<MessageStore> {
  if (typeof uri !== 'string') throw new StoreUriError('a store URI must be a string')
  if (uri === 'memory:') return new MemoryMessageStore()
  if (uri.startsWith('sqlite:')) {
    let file = uri.slice('sqlite:'.length)
    if (file.startsWith('//')) file = file.slice(2)
    if (file === '') throw new StoreUriError(`no file in the store URI ${JSON.stringify(uri)} (sqlite:FILE)`)
    return SqliteMessageStore.open(file, options.sqlite)
  }
  if (uri.startsWith('postgres://') || uri.startsWith('postgresql://')) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      throw new StoreUriError(`cannot parse the store URI ${JSON.stringify(uri)}`)
    }
    const schema = url.searchParams.get('schema') ?? undefined
    url.searchParams.delete('schema')
    return PostgresMessageStore.open({ ...options.postgres, connectionString: url.toString(), ...(schema ? { schema } : {}) })
  }
  throw new StoreUriError(
    `cannot open the store ${JSON.stringify(uri)}: use memory:, sqlite:FILE or postgres://USER@HOST:PORT/DATABASE`,
  )
}

/** The blobs kept beside a store's queue (SQLite: a folder next to its file; PostgreSQL: its tables); memory: in memory. */
export function blobStoreFor(store: MessageStore): BlobStore {
  const s = store as MessageStore & { blobs?: () => BlobStore }
  return typeof s.blobs === 'function' ? s.blobs() : new MemoryBlobStore()
}
