import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeQrBytes } from '../../adapters/qr/index.js'
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

/** The grey level of a cell colour as tmux reports it: the pane's defaults, or the 256-colour code. */
type Colour = 'fg' | 'bg' | number
/** An SGR sequence (its parameters) or one character. */
const SGR_OR_CHAR = new RegExp(`${String.fromCharCode(27)}\\[([\\d;]*)m|([^${String.fromCharCode(27)}])`, 'g')
const LEVEL: Record<number, number> = { 16: 0, 231: 255, 0: 0, 15: 255, 7: 255 }

/**
 * The screen of `capture-pane -e` as a picture: each cell two pixels high (the upper and lower half
 * blocks), the pane's default colours as its theme paints them.
 */
function screenImage(captured: string, theme: { fg: number; bg: number }, scale = 3) {
  const rows: number[][] = []
  // tmux writes a colour when it changes, and it holds across lines
  let fg: Colour = 'fg'
  let bg: Colour = 'bg'
  for (const line of captured.split('\n')) {
    const top: number[] = []
    const bottom: number[] = []
    const level = (c: Colour) => {
      if (c === 'fg') return theme.fg
      if (c === 'bg') return theme.bg
      const l = LEVEL[c]
      if (l === undefined) throw new Error(`colour ${c} on screen`)
      return l
    }
    for (const m of line.matchAll(SGR_OR_CHAR)) {
      if (m[1] !== undefined) {
        const p = m[1] === '' ? [0] : m[1].split(';').map(Number)
        for (let i = 0; i < p.length; i++) {
          const n = p[i] as number
          if (n === 0) [fg, bg] = ['fg', 'bg']
          else if (n === 39) fg = 'fg'
          else if (n === 49) bg = 'bg'
          else if ((n === 38 || n === 48) && p[i + 1] === 5) {
            if (n === 38) fg = p[i + 2] as number
            else bg = p[i + 2] as number
            i += 2
          } else if (n >= 30 && n <= 37) fg = n - 30
          else if (n >= 40 && n <= 47) bg = n - 40
        }
        continue
      }
      const ch = m[2] as string
      const [t, b] = ch === '█' ? [fg, fg] : ch === '▀' ? [fg, bg] : ch === '▄' ? [bg, fg] : [bg, bg]
      top.push(level(t))
      bottom.push(level(b))
    }
    rows.push(top, bottom)
  }
  const width = 130 * scale
  const height = rows.length * scale
  const data = new Uint8Array(width * height).fill(theme.bg)
  rows.forEach((row, y) => {
    row.forEach((v, x) => {
      for (let dy = 0; dy < scale; dy++)
        data.fill(v, (y * scale + dy) * width + x * scale, (y * scale + dy) * width + (x + 1) * scale)
    })
  })
  return { width, height, data }
}

/**
 * `carrier qr show` in a tmux pane whose theme is `style`; the screen with its colours, once a whole
 * code is on it: one that decodes read as `readAs` (a capture can catch a code half drawn: seen in a
 * clean-clone CI run on a loaded machine, where the first screen with blocks on it did not decode).
 */
async function shownIn(style: string, args: string, readAs: { fg: number; bg: number }): Promise<string> {
  const dir = tempDir('carrier-term-theme-')
  const script = join(dir, 'run.sh')
  // the pane's theme is set before the command draws
  writeFileSync(script, `sleep 1\ncd ${process.cwd()}\n${process.execPath} --import tsx cli/entry.ts ${args}\nsleep 120\n`)
  const session = `carrier-theme-${process.pid}-${sessions++}`
  tmux('-u', 'new-session', '-d', '-x', '130', '-y', '60', '-s', session, `env -u NO_COLOR bash ${script}`)
  try {
    tmux('set-option', '-t', session, 'window-style', style)
    return await waitFor('a code', () => {
      const screen = tmux('capture-pane', '-p', '-e', '-t', session)
      return /[▀▄█]{20}/.test(screen) && decodeQrBytes(screenImage(screen, readAs)) ? screen : undefined
    })
  } finally {
    tmux('kill-session', '-t', session)
  }
}

describe.skipIf(!haveTmux())(
  "qr show decodes whatever the terminal's colours (a real pty: tmux, decoded with @zxing/library)",
  () => {
    const dir = tempDir('carrier-term-qr-')
    const message = join(dir, 'msg.json')
    writeFileSync(message, JSON.stringify({ ciphertext: 'light-'.repeat(100) }))
    const LIGHT = { style: 'fg=colour16,bg=colour231', fg: 0, bg: 255 }
    const DARK = { style: 'fg=colour231,bg=colour16', fg: 255, bg: 0 }
    const show = `qr show ${message} --fps 2 --version 6`

    for (const [name, theme] of [
      ['light', LIGHT],
      ['dark', DARK],
    ] as const)
      it(`by default it paints black on white: decodes in a ${name} terminal`, async () => {
        const screen = await shownIn(theme.style, show, theme)
        expect(screen).toContain('\x1b[38;5;231') // explicit colours, not the theme's
        expect(decodeQrBytes(screenImage(screen, theme))?.length).toBeGreaterThan(0)
      })

    it('--colors light decodes in a light terminal; --colors dark there is a negative code no decoder here reads', async () => {
      const light = await shownIn(LIGHT.style, `${show} --colors light`, LIGHT)
      expect(light).not.toContain('\x1b[38;5;231')
      expect(decodeQrBytes(screenImage(light, LIGHT))?.length).toBeGreaterThan(0)
      const dark = await shownIn(LIGHT.style, `${show} --colors dark`, DARK)
      expect(decodeQrBytes(screenImage(dark, LIGHT))).toBeUndefined()
      expect(decodeQrBytes(screenImage(dark, DARK))?.length).toBeGreaterThan(0)
    })
  },
)
