/** How much a long-running command logs: --log-level. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type Logger = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>

/** Structured logs: one JSON object a line on stderr (`time`, `level`, `msg`, fields), at `level` and above. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const rank = LOG_LEVELS.indexOf(level)
  const at =
    (l: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (LOG_LEVELS.indexOf(l) > rank) return
      write(`${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields })}\n`)
    }
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
}
