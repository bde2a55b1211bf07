// The camera → decoder loop shared by the scanner and the wallet pages: getUserMedia frames drawn on
// a canvas and handed to the decoder Worker (decode-worker.ts, zxing-wasm), skipped while it is busy.
import type { DecodeReply, DecodeRequest } from './decode-worker.js'

export interface CameraLoop {
  /** Stops the camera and the decoder. */
  stop(): void
}

/** Starts the camera in `video` and calls `onFrame` for every camera frame and `onReply` for every decoder answer. */
export async function startCameraLoop(
  video: HTMLVideoElement,
  o: {
    onReply: (reply: DecodeReply) => void
    onFrame?: (skipped: boolean) => void
    video?: MediaTrackConstraints
  },
): Promise<CameraLoop> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: 'environment', ...o.video },
    audio: false,
  })
  video.srcObject = stream
  await video.play()
  const canvas = document.createElement('canvas')
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D
  const worker = new Worker(new URL('decode-worker.js', location.href))
  let busy = false
  let stopped = false
  worker.onmessage = (e: MessageEvent<DecodeReply>) => {
    busy = false
    if (!stopped) o.onReply(e.data)
  }
  const onFrame = () => {
    if (stopped) return
    o.onFrame?.(busy)
    if (!busy && video.videoWidth) {
      canvas.width = video.videoWidth
      canvas.height = video.videoHeight
      ctx.drawImage(video, 0, 0)
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height)
      busy = true
      worker.postMessage({ width: img.width, height: img.height, data: img.data } satisfies DecodeRequest, [img.data.buffer])
    }
    video.requestVideoFrameCallback(onFrame)
  }
  video.requestVideoFrameCallback(onFrame)
  return {
    stop: () => {
      stopped = true
      worker.terminate()
      for (const t of stream.getTracks()) t.stop()
      video.srcObject = null
    },
  }
}
