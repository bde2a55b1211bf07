import { parentPort, workerData } from 'node:worker_threads'
import { CardApplet } from './applet.js'
import { VpcdCard } from './vpcd-card.js'

/**
 * The thread of a VpcdCardThread: a CardApplet in vpcd's field, answering APDUs here whatever the
 * main thread is doing. Frames cross to the main thread's Link as messages.
 */
const port = parentPort as NonNullable<typeof parentPort>
const applet = new CardApplet(workerData.applet)
const card = new VpcdCard(applet, { host: workerData.host, port: workerData.port })
applet.onFrame((f) => {
  const frame = new Uint8Array(f) // exactly its bytes, handed over
  port.postMessage({ frame }, [frame.buffer])
})

port.on('message', async (m: { frame?: Uint8Array; id?: number; op?: 'insert' | 'remove' | 'close' | 'send' }) => {
  try {
    if (m.op === 'send' && m.frame) await applet.send(m.frame)
    if (m.op === 'insert') await card.insert()
    if (m.op === 'remove') card.remove()
    if (m.op === 'close') await applet.close()
    port.postMessage({ id: m.id })
  } catch (e) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    port.postMessage({ id: m.id, error: { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: String(message) } })
  }
})
