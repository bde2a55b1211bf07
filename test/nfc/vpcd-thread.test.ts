import { createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  CLA_PROPRIETARY,
  encodeCommand,
  INS_ENVELOPE,
  parseResponse,
  SW,
  selectCarrierCommand,
  VpcdCardThread,
} from '../../adapters/nfc/index.js'
import { freePort } from '../support/mosquitto.js'

/** vpcd's side of the card's TCP connection (what pcscd's driver does): one message, one answer. */
function vpcdSide(socket: Socket) {
  let buf = Buffer.alloc(0)
  let waiting: ((b: Uint8Array) => void) | undefined
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d])
    if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const n = buf.readUInt16BE(0)
      const msg = new Uint8Array(buf.subarray(2, 2 + n))
      buf = buf.subarray(2 + n)
      waiting?.(msg)
    }
  })
  return (msg: Uint8Array) =>
    new Promise<Uint8Array>((resolve) => {
      waiting = resolve
      const out = Buffer.alloc(2 + msg.length)
      out.writeUInt16BE(msg.length, 0)
      out.set(msg, 2)
      socket.write(out)
    })
}

describe('VpcdCardThread: the card applet on a worker thread', () => {
  it('answers vpcd from its own thread, and frames cross to its link both ways', async () => {
    const server = createServer()
    const connected = new Promise<Socket>((r) => server.once('connection', r))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const card = VpcdCardThread.start({ port: (server.address() as { port: number }).port })
    try {
      await card.insert()
      const ask = vpcdSide(await connected)
      expect(Array.from(await ask(Uint8Array.of(0x04)))).toEqual([0x3b, 0x80, 0x80, 0x01, 0x01]) // the ATR
      expect(parseResponse(await ask(selectCarrierCommand())).sw).toBe(SW.OK)

      const got: Uint8Array[] = []
      card.link.onFrame((f) => got.push(f))
      await card.link.send(Uint8Array.of(9, 8, 7))
      // an ENVELOPE asked, then this thread blocks: the card's thread answers regardless
      const envelope = ask(
        encodeCommand({ cla: CLA_PROPRIETARY, ins: INS_ENVELOPE, p1: 0, p2: 0, data: Uint8Array.of(1, 2, 3), le: 256 }),
      )
      const until = Date.now() + 300
      while (Date.now() < until) {} // the main thread blocked for 300 ms
      const r = parseResponse(await envelope)
      expect([r.sw, Array.from(r.data)]).toEqual([SW.OK, [9, 8, 7]])
      // the frame crosses from the card's thread by message, the answer by TCP: either may come first
      for (const end = Date.now() + 30_000; got.length === 0 && Date.now() < end; )
        await new Promise((res) => setTimeout(res, 10))
      expect(got.map((f) => Array.from(f))).toEqual([[1, 2, 3]])
    } finally {
      await card.close()
      server.close()
    }
  })

  it('no vpcd there: insert() fails with ERR_VPCD_UNREACHABLE, as VpcdCard does', async () => {
    const card = VpcdCardThread.start({ port: await freePort() })
    try {
      await expect(card.insert()).rejects.toMatchObject({ code: 'ERR_VPCD_UNREACHABLE' })
    } finally {
      await card.close()
    }
  })
})
