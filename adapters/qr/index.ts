// The animated-QR adapter: frame sizing, byte-mode codes, PNG images, decoding, and the two Links.
// (Still to come: degraded-camera decoding work, zxing-wasm, terminal/SVG/canvas renderers, web pages, UR.)
export { byteCapacity, defaultVersion, type Ecc, frameToModules, textToModules } from './capacity.js'
export { decodeQrBytes, decodeQrBytesFixed } from './decode.js'
export { decodeQrBytesWasm, decodeQrTextWasm } from './decode-wasm.js'
export { decodePng, encodePng, type LuminanceImage, modulesToImage } from './image.js'
export { QrCameraLink, type QrCode, QrDisplayLink } from './link.js'
export { modulesToSvg, modulesToTerminal } from './render.js'
export { UrError, UrReceiver, urParts } from './ur.js'
