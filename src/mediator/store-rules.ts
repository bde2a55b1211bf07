import { MAX_STORE_ID_BYTES, type QueuedMessage, type QueueLimits, QuotaExceededError, StoreInputError } from './store.js'

const utf8 = new TextEncoder()

/** The input checks every MessageStore makes, so all of them refuse the same things the same way. */
export function checkMessage(m: QueuedMessage): void {
  if (typeof m !== 'object' || m === null) throw new StoreInputError('a queued message must be an object')
  checkName('message id', m.id)
  checkName('recipient', m.recipient)
  if (!(m.data instanceof Uint8Array)) throw new StoreInputError('message data must be a Uint8Array')
  checkTime('receivedAt', m.receivedAt)
  if (m.expiresAt !== undefined) checkTime('expiresAt', m.expiresAt)
}

export function checkName(what: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw new StoreInputError(`${what} must be a non-empty string`)
  const bytes = value.length > MAX_STORE_ID_BYTES / 3 ? utf8.encode(value).length : value.length
  if (bytes > MAX_STORE_ID_BYTES)
    throw new StoreInputError(`${what} is ${bytes} bytes long in UTF-8 (limit ${MAX_STORE_ID_BYTES})`)
}

export function checkNames(what: string, values: readonly string[]): void {
  if (!Array.isArray(values)) throw new StoreInputError(`${what} must be an array of strings`)
  for (const v of values) checkName(what, v)
}

function checkTime(what: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new StoreInputError(`${what} must be a finite number`)
}

/** peek's limit as a row count: negative and NaN are 0, fractions round down. */
export function rowLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : limit === Number.POSITIVE_INFINITY ? 2 ** 31 - 1 : 0
}

export function isExpired(m: { expiresAt?: number }, now: number): boolean {
  return m.expiresAt !== undefined && m.expiresAt <= now
}

/**
 * One recipient's queue as a quota check sees it while a batch is admitted: starts from what is
 * stored (expired messages not counted) and grows with each message it lets in.
 */
export class QueueTally {
  constructor(
    private readonly recipient: string,
    public messages: number,
    public bytes: number,
  ) {}

  /** Counts the message in, or throws QuotaExceededError and counts nothing. */
  admit(size: number, limits: QueueLimits | undefined): void {
    if (limits?.maxMessages !== undefined && this.messages + 1 > limits.maxMessages)
      throw new QuotaExceededError(`queue of ${this.recipient} holds ${this.messages} messages (limit ${limits.maxMessages})`)
    if (limits?.maxBytes !== undefined && this.bytes + size > limits.maxBytes)
      throw new QuotaExceededError(`queue of ${this.recipient} would hold ${this.bytes + size} bytes (limit ${limits.maxBytes})`)
    this.messages += 1
    this.bytes += size
  }
}

export function hasLimits(limits: QueueLimits | undefined): boolean {
  return limits !== undefined && (limits.maxMessages !== undefined || limits.maxBytes !== undefined)
}

/** Calls each listener; one that throws neither stops the others nor fails the write that fired it. */
export function notifyAll(listeners: Iterable<(recipient: string) => void>, recipient: string): void {
  for (const l of listeners) {
    try {
      l(recipient)
    } catch {
      // a listener's failure is the listener's; the message is stored either way
    }
  }
}
