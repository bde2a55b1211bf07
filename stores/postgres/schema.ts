import { StoreInputError } from '../../src/mediator/store.js'

/** The channel every instance LISTENs on; payload: schema, instance id and recipient, one a line. */
export const CHANNEL = 'carrier_enqueued'

/** Key of the advisory lock that serialises schema creation between instances starting together. */
export const SCHEMA_LOCK = 0x63617272 // 'carr'

export function checkSchemaName(schema: string): void {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new StoreInputError(`schema ${JSON.stringify(schema)} must be a lower-case SQL identifier (a-z, 0-9, _)`)
}

/**
 * The tables, created on open (idempotent). `seq` is the queue order; the queue index carries size
 * and expiry so the quota count reads the index alone. Times are float8 (JS numbers, no parsing).
 */
export function schemaSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.messages (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  recipient text NOT NULL,
  data bytea NOT NULL,
  size integer NOT NULL,
  received_at float8 NOT NULL,
  expires_at float8
);
CREATE INDEX IF NOT EXISTS messages_queue ON ${s}.messages (recipient, seq) INCLUDE (size, expires_at);
CREATE INDEX IF NOT EXISTS messages_expiry ON ${s}.messages (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${s}.grants (
  client text PRIMARY KEY,
  routing_did text NOT NULL,
  granted_at float8 NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.keys (
  key text PRIMARY KEY,
  client text NOT NULL,
  seq bigserial
);
CREATE INDEX IF NOT EXISTS keys_client ON ${s}.keys (client, seq);
`
}

/** A 32-bit FNV-1a of the recipient: the advisory lock that makes its quota check atomic. */
export function recipientLock(recipient: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < recipient.length; i++) {
    h ^= recipient.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h | 0
}
