import { VERAMO_AUTHCRYPT } from '../didcomm/jwe.js'
import type { Message, UnpackMetadata } from '../didcomm/pack.js'
import { DISCOVER_QUERIES, discoverDisclose, type Feature } from '../protocols/discover-features.js'
import { PROBLEM_REPORT, ProblemReportError } from '../protocols/report-problem.js'
import { TRUST_PING, trustPingResponse } from '../protocols/trust-ping.js'
import { CarrierError } from '../transport.js'

interface Received {
  message: Message
  metadata: UnpackMetadata
}

/**
 * The form an answer to this message takes: one that came in Veramo's authcrypt variant (read only
 * where AgentPolicy.compat allows it) is answered in that variant, the only authcrypt Veramo opens.
 */
export function answerCompat(metadata: UnpackMetadata): 'veramo' | undefined {
  return metadata.compat === VERAMO_AUTHCRYPT ? 'veramo' : undefined
}

export class NoAnswerError extends CarrierError {
  constructor(message: string) {
    super('ERR_NO_ANSWER', message)
  }
}

/** Requests waiting for the answer in their thread (thid = the request's id); a problem report rejects. */
export class PendingRequests {
  private readonly waiting = new Map<string, { resolve: (m: Received) => void; reject: (e: unknown) => void }>()

  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new NoAnswerError(`no answer to ${id} within ${timeoutMs} ms`)), timeoutMs)
      const fail = (e: unknown) => {
        this.waiting.delete(id)
        clearTimeout(timer)
        reject(e)
      }
      signal?.addEventListener('abort', () => fail(signal.reason), { once: true })
      this.waiting.set(id, {
        resolve: (m) => {
          clearTimeout(timer)
          this.waiting.delete(id)
          resolve(m)
        },
        reject: fail,
      })
    })
  }

  cancel(id: string, error: unknown): void {
    this.waiting.get(id)?.reject(error)
  }

  /** Settles the request this message answers; false when it answers none. */
  settle(m: Received): boolean {
    const thid = m.message.thid
    const w = thid === undefined ? undefined : this.waiting.get(thid)
    if (!w) return false
    if (m.message.type === PROBLEM_REPORT) w.reject(new ProblemReportError(m.message))
    else w.resolve(m)
    return true
  }
}

/** The features every agent discloses: the protocols it answers by itself. */
export const AGENT_FEATURES: Feature[] = [
  { 'feature-type': 'protocol', id: 'https://didcomm.org/trust-ping/2.0', roles: ['receiver'] },
  { 'feature-type': 'protocol', id: 'https://didcomm.org/discover-features/2.0', roles: ['responder'] },
  { 'feature-type': 'protocol', id: 'https://didcomm.org/report-problem/2.0' },
]

/** The answer an agent gives by itself (trust ping, discover features), or undefined when it has none to give. */
export function automaticAnswer(m: Received, features: () => readonly Feature[]): Message | null | undefined {
  // a ping with a parent thread belongs to that protocol (an OOB invitation being accepted): the app answers it
  if (m.message.type === TRUST_PING && m.message.pthid === undefined) return m.message.from ? trustPingResponse(m.message) : null
  if (m.message.type === DISCOVER_QUERIES) return m.message.from ? discoverDisclose(m.message, features()) : null
  return undefined
}
