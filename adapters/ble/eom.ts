/**
 * The DIF "DIDComm over Bluetooth" framing: a message goes as chunks of the ATT payload size, then
 * one chunk holding exactly `EOM`. (A message whose last chunk is the bytes `EOM` cannot be told
 * apart; DIDComm JSON never ends that way.) Plain Uint8Array: the Web Bluetooth link uses it too.
 */
const EOM = new Uint8Array([0x45, 0x4f, 0x4d])

const isEom = (c: Uint8Array) => c.length === 3 && c[0] === EOM[0] && c[1] === EOM[1] && c[2] === EOM[2]

export function eomChunks(message: Uint8Array, chunkSize: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let o = 0; o < message.length; o += chunkSize) out.push(message.slice(o, o + chunkSize))
  out.push(EOM.slice())
  return out
}

/** Collects chunks until `EOM`; refuses messages over `maxBytes` (the rest of that message is dropped). */
export class EomAssembler {
  private parts: Uint8Array[] = []
  private size = 0
  private overflow = false

  constructor(
    private readonly maxBytes: number,
    private readonly onMessage: (message: Uint8Array) => void,
    private readonly onTooLarge: (bytes: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (isEom(chunk)) {
      const parts = this.parts
      const { size, overflow } = this
      this.parts = []
      this.size = 0
      this.overflow = false
      if (overflow) this.onTooLarge(size)
      else if (size > 0) this.onMessage(concat(parts, size))
      return
    }
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      this.overflow = true
      this.parts = []
      return
    }
    if (!this.overflow) this.parts.push(chunk.slice())
  }

  reset(): void {
    this.parts = []
    this.size = 0
    this.overflow = false
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
