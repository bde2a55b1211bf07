import cliProgress from 'cli-progress'
import { holdTerminal } from './terminal.js'

/** Everything the CLI prints goes through here: human text, or one JSON object per line with --json. */
export interface Output {
  readonly json: boolean
  /** A result: printed as text, or as one JSON line. */
  result(text: string, data: Record<string, unknown>): void
  /** A side remark for people (stderr); silent in --json mode. */
  info(text: string): void
  /** A progress bar on stderr for a transfer; a no-op in --json mode or when stderr is not a terminal. */
  progress(label: string, total: number, unit?: string): Progress
}

export interface Progress {
  update(value: number, total?: number): void
  stop(): void
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(text, data) {
      process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${text}\n`)
    },
    info(text) {
      if (!json) process.stderr.write(`${text}\n`)
    },
    progress(label, total, unit = 'B') {
      if (json || !process.stderr.isTTY) return { update() {}, stop() {} }
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} {bar} {percentage}% | {value}/{total} ${unit} | {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
      const release = holdTerminal(process.stderr)
      bar.start(total, 0)
      return {
        update(value, newTotal) {
          if (newTotal !== undefined) bar.setTotal(newTotal)
          bar.update(value)
        },
        stop() {
          bar.stop()
          release()
        },
      }
    },
  }
}
