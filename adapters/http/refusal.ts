import type { Message } from '../../src/didcomm/pack.js'

/** How a handler's refusal of an envelope is said over HTTP. */
export interface Refusal {
  status: number
  code: string
  message: string
  /** A report-problem 2.0 message, sent in plaintext to a sender that could not be answered otherwise. */
  problem?: Message
  /** The sender was answered already (the report went encrypted on its link). */
  delivered?: boolean
}

const STATUS: Record<string, number> = {
  ERR_MESSAGE_TOO_LARGE: 413,
  ERR_QUOTA_EXCEEDED: 507,
  ERR_NOT_GRANTED: 403,
  ERR_DIDCOMM_POLICY: 403,
  ERR_UNSUPPORTED_MESSAGE: 422,
  ERR_UNKNOWN_RECIPIENT: 404,
  ERR_TIMEOUT: 504,
}

/** The status for an error: DIDComm errors (cannot open, malformed, expired, policy) are the sender's: 400. */
export function refusalOf(err: unknown): Refusal {
  const e = err as { code?: unknown; message?: unknown; problem?: unknown; delivered?: unknown }
  const code = typeof e?.code === 'string' ? e.code : 'ERR_INTERNAL'
  const problem = e?.problem && typeof e.problem === 'object' ? (e.problem as Message) : undefined
  if (e?.delivered === true) return { status: STATUS[code] ?? 422, code, message: String(e.message), delivered: true }
  const status = STATUS[code] ?? (code.startsWith('ERR_DIDCOMM') ? 400 : problem ? 422 : 500)
  const message = status === 500 ? 'internal error' : String(e?.message ?? code)
  return { status, code, message, ...(problem ? { problem } : {}) }
}
