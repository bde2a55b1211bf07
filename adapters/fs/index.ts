export {
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
