export {
  type BlobAccess,
  BlobHttpError,
  blobAccess,
  blobHeld,
  confirmBlob,
  type DownloadOptions,
  downloadBlob,
  type UploadOptions,
  uploadBlob,
} from './blob-client.js'
export { type BlobRoutesOptions, blobRoutes } from './blob-routes.js'
export {
  type WebClientOptions,
  type WebClientTransport,
  type WebSocketConstructor,
  type WebSocketLike,
  webClientTransport,
} from './client.js'
export { type WebEndpointTransport, webEndpointTransport } from './endpoint-transport.js'
export { HttpStatusError, WebSocketError } from './errors.js'
export { bareMediaType, DIDCOMM_MEDIA_TYPES, HTTP_SCHEMES, isDidcommWebUri, WS_SCHEMES } from './media.js'
export { type Refusal, refusalOf } from './refusal.js'
export { startWebServer, type WebServer, type WebServerOptions } from './server.js'
