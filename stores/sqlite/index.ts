export { SqliteMessageStore, type SqliteStoreOptions } from './sqlite-store.js'
