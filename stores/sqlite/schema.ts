/**
 * The SQLite schema, created on open (idempotent). `seq` is the queue order; the queue index also
 * holds size and expiry so the quota count reads the index alone.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  recipient TEXT NOT NULL,
  data BLOB NOT NULL,
  size INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (recipient, seq, expires_at, size);
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS grants (
  client TEXT PRIMARY KEY,
  routing_did TEXT NOT NULL,
  granted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
  key TEXT PRIMARY KEY,
  client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_client ON keys (client);
`
