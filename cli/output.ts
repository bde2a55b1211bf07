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
  /**
   * A script-readable event (--json: one line `{"event": name, …}` on stdout); in text mode `text`
   * goes to stdout, or nowhere when it is undefined.
   */
  event(
    name: 'ready' | 'progress' | 'file' | 'message' | 'error' | 'queued' | 'retry',
    data: Record<string, unknown>,
    text?: string,
  ): void
  /** A byte transfer's progress: bar with rate and ETA on a terminal, `progress` events (≤ 2/s) with --json. */
  transfer(label: string, total: number, data?: Record<string, unknown>): Progress
}

export interface Progress {
  update(value: number, total?: number): void
  stop(): void
}

export function createOutput(json: boolean): Output {
  const event: Output['event'] = (name, data, text) => {
    if (json) process.stdout.write(`${JSON.stringify({ event: name, ...data })}\n`)
    else if (text !== undefined) process.stdout.write(`${text}\n`)
  }
  return {
    json,
    event,
    transfer(label, total, data = {}) {
      const started = Date.now()
      const figures = (value: number, t: number) => {
        const s = (Date.now() - started) / 1000
        const rate = s > 0 ? value / s : 0
        return { bytes: value, total: t, rate: Math.round(rate), etaS: rate > 0 ? Math.round((t - value) / rate) : null }
      }
      if (json) {
        let last = 0
        let t = total
        return {
          update(value, newTotal) {
            if (newTotal !== undefined) t = newTotal
            if (Date.now() - last < 500 && value < t) return
            last = Date.now()
            event('progress', { ...data, ...figures(value, t) })
          },
          stop() {},
        }
      }
      if (!process.stderr.isTTY) return { update() {}, stop() {} }
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} {bar} {percentage}% | {value}/{total} B | {mbps} MB/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(total, 0, { mbps: '0.0' })
      return {
        update(value, newTotal) {
          if (newTotal !== undefined) bar.setTotal(newTotal)
          bar.update(value, { mbps: (figures(value, newTotal ?? total).rate / 1e6).toFixed(1) })
        },
        stop() {
          bar.stop()
        },
      }
    },
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
