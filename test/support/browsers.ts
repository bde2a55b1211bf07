import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { prerequisite } from './prerequisites.js'

/** Debian's Chromium, driven headless by playwright-core (never a downloaded browser). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export function haveChromium(): boolean {
  return prerequisite('chromium', existsSync(CHROMIUM), 'apt-get install chromium (or set CHROMIUM_PATH)')
}

/** tmux: a real pty for what a terminal shows (QR animation, terminal restore). */
export function haveTmux(): boolean {
  let ok = false
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    ok = true
  } catch {}
  return prerequisite('tmux', ok, 'apt-get install tmux (bash .ci/run does it)')
}
