import { UR, URDecoder, UREncoder } from '@ngraveio/bc-ur'
import { CarrierError } from '../../src/transport.js'

/**
 * Blockchain Commons UR compatibility (`ur:bytes/…` multi-part, BC-UR's own fountain code), for
 * wallets that speak UR: an envelope out as UR parts, and UR parts in as an envelope. UR parts are
 * text, so their QR codes use the alphanumeric mode (upper-case), not byte mode.
 */
export function urParts(
  envelope: Uint8Array,
  o: { fragmentLength?: number; firstSeqNum?: number } = {},
): {
  /** Source fragments a receiver needs at least. */
  fragments: number
  next(): string
} {
  const enc = new UREncoder(
    UR.fromBuffer(Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length)),
    o.fragmentLength ?? 400,
    o.firstSeqNum ?? 0,
  )
  return { fragments: enc.fragmentsLength, next: () => enc.nextPart() }
}

export class UrError extends CarrierError {
  constructor(message: string) {
    super('ERR_UR', message)
  }
}

/** Collects UR parts (any case, any order, with losses) until the envelope is complete. */
export class UrReceiver {
  private readonly decoder = new URDecoder()

  /** false for text that is not a UR part of this stream (it is ignored). */
  receive(part: string): boolean {
    const text = part.trim().toLowerCase()
    if (!text.startsWith('ur:')) return false
    try {
      return this.decoder.receivePart(text)
    } catch {
      return false
    }
  }

  get progress(): number {
    return this.decoder.estimatedPercentComplete()
  }

  get complete(): boolean {
    return this.decoder.isComplete()
  }

  /** The envelope, once complete. */
  result(): Uint8Array {
    if (!this.decoder.isComplete()) throw new UrError('UR stream is not complete')
    if (!this.decoder.isSuccess()) throw new UrError(`UR stream failed: ${this.decoder.resultError()}`)
    const ur = this.decoder.resultUR()
    if (ur.type !== 'bytes') throw new UrError(`UR type ${ur.type}, expected bytes`)
    return new Uint8Array(ur.decodeCBOR())
  }
}
