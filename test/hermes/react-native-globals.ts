/**
 * What React Native's InitializeCore gives every app on Hermes and the bare Hermes CLI lacks:
 * `global`, `console`, AbortController (set up from the abort-controller package, as React
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
