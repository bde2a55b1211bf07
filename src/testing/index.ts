// No vitest here: memory links and seeded randomness import from plain Node and browsers.
// The adapter and store conformance suites (which need vitest) are their own entry: didcomm-carrier/testing/conformance.
export { fountainTrial } from './fountain-trial.js'
export { type MemoryLinkOptions, type MemoryLinkPair, memoryLinkPair } from './memory-link.js'
export { seededBytes, seededRandom } from './prng.js'
