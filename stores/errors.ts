import { CarrierError } from '../src/transport.js'

/** The database failed a write or a read (disk full, connection lost, server down): nothing was stored. */
export class StoreFailedError extends CarrierError {
  constructor(message: string, cause?: unknown) {
    super('ERR_STORE_FAILED', message, { cause })
  }
}

/** openStore() was given a URI it cannot open. */
export class StoreUriError extends CarrierError {
  constructor(message: string) {
    super('ERR_STORE_URI', message)
  }
}

export function failed(what: string, err: unknown): StoreFailedError {
  if (err instanceof StoreFailedError) return err
  return new StoreFailedError(`${what}: ${err instanceof Error ? err.message : String(err)}`, err)
}
