import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'

const H4_COMMAND = 0x01
const H4_ACL = 0x02
const H4_EVENT = 0x04

/**
 * An HCI transport over a unix stream socket speaking H4 (one type byte, then the HCI packet) — what
 * BlueZ's emulator (`btvirt -s`) serves, one emulated controller per connection. It has the shape of
 * `@stoprocent/bluetooth-hci-socket`'s drivers (bindRaw/bindUser/start/stop/write/isDevUp, 'data'
 * with whole packets), so the stacks' HCI layer uses it in place of the kernel socket or a UART; no
 * PTY bridge in between (socat would cost ~3× the throughput).
 */
export class UnixHciSocket extends EventEmitter {
  private socket: Socket | undefined
  private pending: Buffer = Buffer.alloc(0)
  private up = false

  constructor(private readonly path: string) {
    super()
  }

  setFilter(): void {}
  bindControl(): void {}

  bindRaw(): void {
    this.open()
  }

  bindUser(): void {
    this.open()
  }

  /** Writes made before the socket connects are queued by it; the stacks may start at once. */
  isDevUp(): boolean {
    return this.up
  }

  start(): void {}

  stop(): void {
    this.up = false
    this.socket?.destroy()
    this.socket = undefined
  }

  write(data: Buffer): void {
    this.socket?.write(data)
  }

  reset(): void {
    this.write(Buffer.from([H4_COMMAND, 0x03, 0x0c, 0x00]))
  }

  getDeviceList(): Promise<{ devId: null; devUp: boolean; path: string }[]> {
    return Promise.resolve([{ devId: null, devUp: this.up, path: this.path }])
  }

  private open(): void {
    if (this.socket) return
    this.up = true
    const socket = connect(this.path)
    this.socket = socket
    socket.on('data', (chunk: Buffer) => this.onChunk(chunk))
    let connected = false
    socket.once('connect', () => {
      connected = true
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // Before the connection, say it as the kernel socket would: no controller there, or no permission.
      if (!connected) Object.assign(err, err.code === 'EACCES' ? { code: 'EPERM' } : { syscall: 'socket creation failed' })
      this.emit('error', err)
    })
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.up = false
      this.socket = undefined
      this.emit('state', false)
    })
  }

  private onChunk(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk
    for (;;) {
      const size = packetSize(buf)
      if (size === -1) {
        this.emit(
          'error',
          new Error(`HCI transport: unknown H4 packet type 0x${(buf[0] as number).toString(16)} from ${this.path}`),
        )
        this.stop()
        return
      }
      if (size === undefined || buf.length < size) break
      this.emit('data', buf.subarray(0, size))
      buf = buf.subarray(size)
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0)
  }
}

/** Size of the H4 packet at the start of buf, undefined while its header is incomplete, -1 if it is not H4. */
function packetSize(buf: Buffer): number | undefined {
  if (buf.length < 1) return undefined
  switch (buf[0]) {
    case H4_EVENT:
      return buf.length < 3 ? undefined : 3 + (buf[2] as number)
    case H4_ACL:
      return buf.length < 5 ? undefined : 5 + buf.readUInt16LE(3)
    case H4_COMMAND:
      return buf.length < 4 ? undefined : 4 + (buf[3] as number)
    default:
      return -1
  }
}
