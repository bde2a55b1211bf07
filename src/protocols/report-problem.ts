import { createMessage } from '../didcomm/message.js'
import type { Message } from '../didcomm/pack.js'
import { CarrierError } from '../transport.js'

/** Report Problem 2.0. Codes: e|w . scope (p = protocol, m = message) . descriptor, e.g. e.p.msg.unsupported. */
export const PROBLEM_REPORT = 'https://didcomm.org/report-problem/2.0/problem-report'

export interface Problem {
  code: string
  comment?: string
  args?: string[]
}

/** A problem report about `about` (its thread; pthid = the message itself when it started no thread). */
export function problemReport(p: Problem & { about?: Message }): Message {
  const m = createMessage({
    type: PROBLEM_REPORT,
    body: { code: p.code, ...(p.comment ? { comment: p.comment } : {}), ...(p.args ? { args: p.args } : {}) },
  })
  if (p.about) {
    m.thid = p.about.thid ?? p.about.id
    m.pthid = p.about.pthid
  }
  return m
}

/** The problem a report carries, or null when the message is not a well-formed problem report. */
export function problemOf(m: Message): Problem | null {
  if (m.type !== PROBLEM_REPORT || typeof m.body?.code !== 'string') return null
  const comment = typeof m.body.comment === 'string' ? m.body.comment : undefined
  const args = Array.isArray(m.body.args) ? m.body.args.map(String) : undefined
  return { code: m.body.code, ...(comment ? { comment } : {}), ...(args ? { args } : {}) }
}

/** A peer answered with a problem report: `problemCode` is its code (e.g. e.p.req.not-granted). */
export class ProblemReportError extends CarrierError {
  readonly problemCode: string
  constructor(
    readonly report: Message,
    problem: Problem = problemOf(report) ?? { code: 'e.p.unknown' },
  ) {
    super('ERR_PROBLEM_REPORT', `problem report ${problem.code}${problem.comment ? `: ${problem.comment}` : ''}`)
    this.problemCode = problem.code
  }
}

/**
 * We refused a message: `code` is stable (ERR_NOT_GRANTED, ERR_UNKNOWN_RECIPIENT, ERR_QUOTA_EXCEEDED,
 * ERR_MESSAGE_TOO_LARGE, ERR_UNSUPPORTED_MESSAGE), `problem` the report for the sender — transports
 * that answer in-band (HTTP, WebSocket) carry it to a sender we cannot encrypt to.
 */
export class RefusedMessageError extends CarrierError {
  constructor(
    code: string,
    readonly problem: Message,
    /** The sender has the report already (encrypted, on its link): transports add nothing. */
    readonly delivered = false,
  ) {
    super(code, problemOf(problem)?.comment ?? code)
  }
}
