import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BlobSink } from '../../adapters/fs/blob-sink.js'
import type { EncryptedShare } from '../../src/files/share.js'
import { newStreamParams, sealAll, TAG_BYTES } from '../../src/files/stream-aead.js'
import { seededBytes } from '../../src/testing/prng.js'
import { tempDir } from '../support/temp.js'

/**
 * BlobSink hashes the plaintext as segments are written in order and reads back only what came
 * out of order: whatever the order (and a restart in between), finish() checks the whole file's
 * SHA-256 and places exactly the plaintext.
 */
const dir = tempDir('carrier-blob-sink-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SEG = 1024
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function blob(seed: number, segments: number) {
  const plain = seededBytes(SEG * segments - 100, seed)
  const params = newStreamParams(SEG)
  const cipher = sealAll(params, plain)
  const share: EncryptedShare = {
    id: `share-${seed}`,
    filename: `file-${seed}.bin`,
    mediaType: 'application/octet-stream',
    plainBytes: plain.length,
    plainSha256: sha(plain),
    cipherBytes: cipher.length,
    cipherSha256: sha(cipher),
    params,
    links: [],
  }
  /** Segments [from, to) of the ciphertext, and where they start. */
  const span = (from: number, to: number) =>
    [from * (SEG + TAG_BYTES), cipher.subarray(from * (SEG + TAG_BYTES), to * (SEG + TAG_BYTES))] as const
  return { plain, share, span }
}

describe('BlobSink: the plaintext hash whatever the order', () => {
  it('in order, out of order, with a segment sent twice', async () => {
    for (const [seed, order] of [
      [1, [0, 1, 2, 3, 4, 5, 6, 7]],
      [2, [3, 0, 1, 2, 7, 6, 4, 5]],
      [3, [0, 1, 1, 5, 2, 3, 4, 6, 7, 0]],
    ] as const) {
      const { plain, share, span } = blob(seed, 8)
      const out = join(dir, `order-${seed}`)
      mkdirSync(out, { recursive: true })
      const sink = await BlobSink.open(out, share, { from: 'did:example:alice' })
      for (const i of order) await sink.write(...span(i, i + 1))
      const done = await sink.finish()
      expect(done.sha256).toBe(share.plainSha256)
      expect(sha(readFileSync(done.path))).toBe(sha(plain))
    }
  })

  it('resumed by a new sink halfway (nothing hashed in memory by then): the file still checks', async () => {
    const { plain, share, span } = blob(4, 8)
    const out = join(dir, 'resumed')
    mkdirSync(out, { recursive: true })
    const first = await BlobSink.open(out, share, { from: 'did:example:alice' })
    await first.write(...span(0, 3))
    await first.close()
    const second = await BlobSink.open(out, share, { from: 'did:example:alice' })
    expect(second.resumedSegments).toBe(3)
    await second.write(...span(3, 8))
    const done = await second.finish()
    expect(done.sha256).toBe(share.plainSha256)
    expect(readFileSync(done.path).equals(Buffer.from(plain))).toBe(true)
  })

  it('a share whose plaintext hash is wrong: ERR_FILE_INTEGRITY, in order as out of order', async () => {
    for (const order of [
      [0, 1, 2, 3],
      [2, 3, 0, 1],
    ]) {
      const { share, span } = blob(5, 4)
      const out = join(dir, `wrong-${order.join('')}`)
      mkdirSync(out, { recursive: true })
      const sink = await BlobSink.open(out, { ...share, plainSha256: sha(new Uint8Array(1)) }, { from: 'did:example:alice' })
      for (const i of order) await sink.write(...span(i, i + 1))
      await expect(sink.finish()).rejects.toMatchObject({ code: 'ERR_FILE_INTEGRITY' })
      expect(readdirSync(out)).toEqual([])
    }
  })
})
