/**
 * The DIF "DIDComm over Bluetooth" framing: a message goes as chunks of the ATT payload size, then
 * one chunk holding exactly `EOM`. (A message whose last chunk is the bytes `EOM` cannot be told
 * apart; DIDComm JSON never ends that way.)
 */
const EOM = Buffer.from('EOM')

export function eomChunks(message: Uint8Array, chunkSize: number): Buffer[] {
  const out: Buffer[] = []
  for (let o = 0; o < message.length; o += chunkSize) out.push(Buffer.from(message.subarray(o, o + chunkSize)))
  out.push(EOM)
  return out
}

/** Collects chunks until `EOM`; refuses messages over `maxBytes` (the rest of that message is dropped). */
export class EomAssembler {
  private parts: Buffer[] = []
  private size = 0
  private overflow = false

  constructor(
    private readonly maxBytes: number,
    private readonly onMessage: (message: Uint8Array) => void,
    private readonly onTooLarge: (bytes: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 3 && Buffer.from(chunk).equals(EOM)) {
      const parts = this.parts
      const { size, overflow } = this
      this.parts = []
      this.size = 0
      this.overflow = false
      if (overflow) this.onTooLarge(size)
      else if (size > 0) this.onMessage(new Uint8Array(Buffer.concat(parts, size)))
      return
    }
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      this.overflow = true
      this.parts = []
      return
    }
    if (!this.overflow) this.parts.push(Buffer.from(chunk))
  }

  reset(): void {
    this.parts = []
    this.size = 0
    this.overflow = false
  }
}
