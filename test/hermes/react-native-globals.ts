/**
 * What React Native's InitializeCore gives every app on Hermes and the bare Hermes CLI lacks:
 * `global`, `console`, setInterval, AbortController (set up from the abort-controller package, as React
 * Native's setUpXHR does). Nothing of the core is here.
 */
import { AbortController, AbortSignal } from 'abort-controller/dist/abort-controller.js'

declare const print: (...args: unknown[]) => void
const g = globalThis as Record<string, unknown>
if (typeof g.global === 'undefined') g.global = globalThis
if (typeof g.console === 'undefined') g.console = { log: print, info: print, warn: print, error: print, debug: () => {} }
if (typeof g.AbortController === 'undefined') {
  g.AbortController = AbortController
  g.AbortSignal = AbortSignal
}

// React Native's timers fire after their delay, in due order, each after the microtasks queued
// before it. The Hermes CLI's setTimeout runs callbacks in call order at once, whatever the delay
// (measured: setTimeout(a, 1000); setTimeout(b, 0) runs a, then b, at 0 ms). So the harness keeps
// its own queue, due-time ordered, and lets the CLI run one due timer per turn (run with
// -Xmicrotask-queue so promise jobs run between turns, as in React Native). Waiting for the next
// due time spins on Date.now: the CLI has nothing to sleep on. stopTimers() drops what is left.
type Timer = { id: number; due: number; seq: number; fn: () => void; every?: number }
const turn = g.setTimeout as (fn: () => void, ms: number) => unknown
const timers: Timer[] = []
let nextId = 1
let seq = 0
let pumping = false
let stopped = false
function schedule(t: Timer): void {
  timers.push(t)
  timers.sort((a, b) => a.due - b.due || a.seq - b.seq)
  if (!pumping) {
    pumping = true
    turn(pump, 0)
  }
}
function pump(): void {
  pumping = false
  const t = timers.shift()
  if (!t || stopped) return
  while (Date.now() < t.due) {
    // the engine has no sleep; nothing else can run before this timer is due
  }
  if (t.every !== undefined) schedule({ ...t, due: Date.now() + t.every, seq: seq++ })
  if (timers.length > 0 && !pumping) {
    pumping = true
    turn(pump, 0)
  }
  t.fn()
}
const clear = (id: unknown) => {
  const i = timers.findIndex((t) => t.id === id)
  if (i >= 0) timers.splice(i, 1)
}
g.setTimeout = (fn: (...a: unknown[]) => void, ms = 0, ...args: unknown[]) => {
  const id = nextId++
  schedule({ id, due: Date.now() + Math.max(0, ms), seq: seq++, fn: () => fn(...args) })
  return id
}
g.setInterval = (fn: () => void, ms = 0) => {
  const id = nextId++
  schedule({ id, due: Date.now() + Math.max(0, ms), seq: seq++, fn, every: Math.max(1, ms) })
  return id
}
g.clearTimeout = clear
g.clearInterval = clear
/** After the app's last line: timers still armed (answer time-outs, sweeps) are dropped. */
export function stopTimers(): void {
  stopped = true
  timers.length = 0
}
