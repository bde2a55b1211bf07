export { type ConformanceOptions, conformanceSuite, type LinkPairHandle } from './conformance.js'
export { fountainTrial } from './fountain-trial.js'
export { type MemoryLinkOptions, type MemoryLinkPair, memoryLinkPair } from './memory-link.js'
export { seededBytes, seededRandom } from './prng.js'
