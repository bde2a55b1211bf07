// bench/hermes-work.ts on Hermes: React Native's globals and an app's polyfills first, as in test/hermes/app.ts.
import { stopTimers } from '../test/hermes/react-native-globals.js'
import '../test/hermes/polyfills.js'
import type { Fixtures } from '../test/hermes/scenarios.js'
import { useFixtures } from '../test/hermes/scenarios.js'
import { envelopeTimings, fountainTiming } from './hermes-work.js'

declare const HERMES_INPUT: { fixtures: Fixtures; frames: string[]; bytes: number }
declare const print: (line: string) => void

const fromHex = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => Number.parseInt(x, 16)) ?? [])

async function main(): Promise<void> {
  useFixtures(HERMES_INPUT.fixtures)
  for (const t of await envelopeTimings()) print(JSON.stringify(t))
  print(JSON.stringify(await fountainTiming(HERMES_INPUT.frames.map(fromHex), HERMES_INPUT.bytes)))
}
main()
  .then(
    () => print(JSON.stringify({ done: true })),
    (e: unknown) => print(JSON.stringify({ error: String(e), stack: (e as Error)?.stack })),
  )
  .then(stopTimers)
