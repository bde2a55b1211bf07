export { PostgresMessageStore, type PostgresStoreOptions } from './postgres-store.js'
