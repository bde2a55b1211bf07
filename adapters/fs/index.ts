export { BlobFetchError, type BlobFetchOptions, type FetchedBlob, fetchBlob, pendingShares } from './blob-fetch.js'
export { BlobSink, type BlobSinkFinished, type BlobSinkState } from './blob-sink.js'
export {
  BLOB_LINK_SCHEME,
  BlobChunkRefusedError,
  FileRefusedError,
  FolderReceiver,
  type FolderReceiverOptions,
  type ReceivedFile,
  type ReceiverEvent,
  type StatusReply,
  withoutBytes,
} from './folder-receiver.js'
export { placeNew, sha256File, writeNew } from './save.js'
export {
  type FileProgress,
  type FileSource,
  FileTransferRefusedError,
  type SendFileOptions,
  type SendFileResult,
  sendFile,
} from './send-file.js'
export { type QueuedFile, routedThrough, type SendViaMediatorOptions, sendViaMediator } from './send-via-mediator.js'
