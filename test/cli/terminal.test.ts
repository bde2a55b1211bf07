import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { seededBytes } from '../../src/testing/prng.js'
import { haveTmux } from '../support/browsers.js'
import { tempDir } from '../support/temp.js'

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' })
let sessions = 0

/** Polls every 50 ms, up to 60 s (a bound for a stuck run, not a timing assertion). */
async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`never saw ${what}`)
}

/**
 * `carrier ARGS` in a tmux pane, as a person runs it; the shell prints its exit status afterwards.
 * `interrupt` is given the session and the CLI's pid once the display is on screen.
 */
async function interruptedRun(
  args: string,
  showing: RegExp,
  interrupt: (session: string, pid: number) => void,
): Promise<{ exit: number; during: string; after: string; screen: string }> {
  const dir = tempDir('carrier-term-')
  const script = join(dir, 'run.sh')
  writeFileSync(script, `cd ${process.cwd()}\n${process.execPath} --import tsx cli/entry.ts ${args}\necho "exit=$?"\nsleep 120\n`)
  const session = `carrier-term-${process.pid}-${sessions++}`
  tmux('-u', 'new-session', '-d', '-x', '120', '-y', '60', '-s', session, `bash ${script}`)
  const flags = () => tmux('display', '-p', '-t', session, 'cursor=#{cursor_flag} wrap=#{wrap_flag}').trim()
  const screen = () => tmux('capture-pane', '-p', '-t', session)
  try {
    await waitFor('the display', () => (showing.test(screen()) ? true : undefined))
    const during = flags()
    const shell = Number(tmux('display', '-p', '-t', session, '#{pane_pid}').trim())
    const pid = Number(
      execFileSync('pgrep', ['-P', String(shell)], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    )
    interrupt(session, pid)
    const exit = await waitFor('the exit status', () => {
      const m = /exit=(\d+)/.exec(screen())
      return m ? Number(m[1]) : undefined
    })
    return { exit, during, after: flags(), screen: screen() }
  } finally {
    tmux('kill-session', '-t', session)
  }
}

describe.skipIf(!haveTmux())('Ctrl-C and SIGTERM give the terminal back (a real pty: tmux)', () => {
  const dir = tempDir('carrier-term-files-')
  const message = join(dir, 'msg.json')
  writeFileSync(message, JSON.stringify({ ciphertext: 'terminal-'.repeat(200) }))
  const big = join(dir, 'big.bin')
  writeFileSync(big, seededBytes(4 * 1024 * 1024, 5))

  it('qr show: Ctrl-C during the animation shows the cursor, turns line wrap back on, exits 130', async () => {
    const r = await interruptedRun(`qr show ${message} --fps 5 --version 6`, /[▀▄█]{20}/, (s) =>
      tmux('send-keys', '-t', s, 'C-c'),
    )
    expect(r.during).toBe('cursor=0 wrap=0') // the animation had them off
    expect(r.after).toBe('cursor=1 wrap=1')
    expect(r.exit).toBe(130)
  })

  it('qr show: SIGTERM during the animation restores the terminal, exits 143', async () => {
    const r = await interruptedRun(`qr show ${message} --fps 5 --version 6`, /[▀▄█]{20}/, (_s, pid) =>
      process.kill(pid, 'SIGTERM'),
    )
    expect(r.during).toBe('cursor=0 wrap=0')
    expect(r.after).toBe('cursor=1 wrap=1')
    expect(r.exit).toBe(143)
  })

  it('a progress bar (loopback of 4 MB at MTU 20): Ctrl-C mid-transfer restores the terminal, exits 130', async () => {
    const r = await interruptedRun(`loopback ${big} --mtu 20 --loss 0.05`, /\d+%/, (s) => tmux('send-keys', '-t', s, 'C-c'))
    expect(r.during).toMatch(/^cursor=0/) // cli-progress hides the cursor while it draws
    expect(r.after).toBe('cursor=1 wrap=1')
    expect(r.exit).toBe(130)
  })
})
