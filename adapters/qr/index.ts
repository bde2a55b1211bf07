// The animated-QR adapter is being built (issue: renderers, decoders, web pages); frame sizing and
// the byte-mode encoding of one frame come first.
export { byteCapacity, defaultVersion, type Ecc, frameToModules } from './capacity.js'
