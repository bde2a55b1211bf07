// The app entry bundled for Hermes: polyfills first, as a React Native app's index.js imports them.
import { stopTimers } from './react-native-globals.js'
import './polyfills.js'
import { all, type Fixtures, useFixtures } from './scenarios.js'

declare const HERMES_INPUT: { fixtures: Fixtures; fromOtherEngine: Record<string, string> }
declare const print: (line: string) => void

useFixtures(HERMES_INPUT.fixtures)
all((line) => print(JSON.stringify(line)), HERMES_INPUT.fromOtherEngine)
  .then(
    () => print(JSON.stringify({ case: 'done' })),
    (e: unknown) => print(JSON.stringify({ case: 'error', error: String(e), stack: (e as Error)?.stack })),
  )
  .then(stopTimers)
