// The animated-QR adapter: frame sizing, byte-mode codes, renderers (terminal, PNG, SVG, canvas),
// decoders, the Links, UR compatibility. The web sender and scanner pages live in web/.

export { QrCameraLink, type QrDecoderName } from './camera.js'
export { type Canvas2D, drawModules } from './canvas.js'
export { alphanumericCapacity, byteCapacity, defaultVersion, type Ecc, frameToModules, textToModules } from './capacity.js'
export { decodeQrBytes, decodeQrBytesFixed } from './decode.js'
export { decodeQrBytesWasm, decodeQrTextWasm } from './decode-wasm.js'
export {
  type DecodedFile,
  decodeFileFrom,
  type EncodedFile,
  encodeFileToDir,
  type FileFramesOptions,
  type Protection,
  packShare,
  writeShareFrames,
} from './file-share.js'
export { decodeFramesFrom, type EncodedFrames, encodeFramesToDir, imagesIn, NotEnoughFramesError } from './files.js'
export { decodePng, encodePng, type LuminanceImage, modulesToImage } from './image.js'
export { type QrCode, QrDisplayLink, QrFrameLink } from './link.js'
export { modulesToSvg, modulesToTerminal } from './render.js'
export { UrError, UrReceiver, urParts } from './ur.js'
