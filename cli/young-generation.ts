import { setFlagsFromString } from 'node:v8'

/**
 * Imported first by the entry: the commands that move files (`send-file`, `listen`) keep V8's young
 * generation at its starting size. Left to grow (to 16 MiB semi-spaces) it is the largest part of such
 * a process's peak RSS above its live memory: measured 200 MB through mosquitto, peak RSS sender
 * 103–110 → 93–95 MB, listener 113–115 → 96 MB, the same duration (docs/FILES.md "Measured"). V8
 * reads this flag each time it grows new space, but by the time a command runs, loading the modules
 * has grown it: so here, before any of them loads. Other commands (the mediator) keep V8's default.
 */
const FILE_MOVERS = new Set(['send-file', 'listen'])
if (process.argv.slice(2).some((a) => FILE_MOVERS.has(a))) setFlagsFromString('--semi-space-growth-factor=1')
