import { seededBytes } from '../../src/testing/prng.js'

export const RECIPIENT = 'did:example:offline'

/** The bytes of the producer's i-th message: the test recomputes them to check what survived. */
export function messageData(i: number): Uint8Array {
  return seededBytes(512 + (i % 1024), 0x5eed + i)
}

export function receivedAt(i: number): number {
  return 1_700_000_000_000 + i
}
