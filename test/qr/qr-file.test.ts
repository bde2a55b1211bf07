import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  decodeFileFrom,
  decodePng,
  decodeQrBytesWasm,
  encodeFileToDir,
  encodePng,
  frameToModules,
  modulesToImage,
  packShare,
  writeShareFrames,
} from '../../adapters/qr/index.js'
import { createPeerDid } from '../../src/did/peer.js'
import type { EncryptedShare } from '../../src/files/share.js'
import { newStreamParams, sealAll } from '../../src/files/stream-aead.js'
import { seededBytes, seededRandom } from '../../src/testing/prng.js'
import { crc32 } from '../../src/wire/checksum.js'
import { MEDIA_PLAIN } from '../../src/wire/media.js'
import { tempDir } from '../support/temp.js'

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const alice = createPeerDid()
const bob = createPeerDid()

/** Deletes about `share` of the PNGs in `dir` (seeded), as a camera that misses codes. */
function dropFrames(dir: string, share: number, seed: number): number {
  const rnd = seededRandom(seed)
  let n = 0
  for (const f of readdirSync(dir))
    if (rnd() < share) {
      rmSync(join(dir, f))
      n++
    }
  return n
}

/** A share of `plain` and its ciphertext, with fields an attacker may change. */
function shareOf(plain: Uint8Array, change: (s: EncryptedShare, c: { ciphertext: Uint8Array }) => void = () => {}) {
  const params = newStreamParams()
  const c = { ciphertext: sealAll(params, plain) }
  const s: EncryptedShare = {
    id: 'qr-file-test-1',
    filename: 'photo.jpg',
    mediaType: 'image/jpeg',
    plainBytes: plain.length,
    plainSha256: hex(plain),
    cipherBytes: c.ciphertext.length,
    cipherSha256: hex(c.ciphertext),
    params,
    links: ['didcomm-transfer:qr-file-test-1'],
  }
  change(s, c)
  return { share: s, ciphertext: c.ciphertext }
}

describe('a file over QR codes, encrypted once', () => {
  it('authcrypt: 100 KB crosses rendered PNG codes with 30 % of them gone; the receiver learns the sender; nothing is overwritten', async () => {
    const dir = tempDir('carrier-qr-file-')
    const data = seededBytes(100 * 1024, 41)
    const frames = join(dir, 'frames')
    const enc = await encodeFileToDir(data, frames, { to: bob.did, from: alice, filename: 'report.pdf', scale: 3 })
    expect(enc).toMatchObject({ protection: 'authcrypt', plainBytes: data.length, cipherBytes: data.length + 2 * 16 })
    // the announcement's codes are spread through the stream, the first code is one of them
    expect(enc.announcementFrames).toBeGreaterThanOrEqual(Math.ceil((enc.frames - enc.announcementFrames) / 16))
    // the codes hold ciphertext: no 64-byte run of the file appears in any code
    const first = await decodeQrBytesWasm(decodePng(readFileSync(join(frames, 'frame-00002.png'))))
    expect(first && Buffer.from(first).includes(Buffer.from(data.subarray(0, 64)))).toBe(false)
    expect(dropFrames(frames, 0.3, 7)).toBeGreaterThan(0)

    const out = join(dir, 'inbox')
    mkdirSync(out)
    const got = await decodeFileFrom([frames], { out, identity: bob })
    expect(got).toMatchObject({
      filename: 'report.pdf',
      bytes: data.length,
      sha256: hex(data),
      protection: 'authcrypt',
      from: alice.did,
    })
    expect(got.path).toBe(join(out, 'report.pdf'))
    expect(hex(readFileSync(got.path))).toBe(hex(data))
    // the same codes again: a second file beside the first, never over it
    const again = await decodeFileFrom([frames], { out, identity: bob })
    expect(again.path).toBe(join(out, 'report (1).pdf'))
    expect(readdirSync(out).sort()).toEqual(['report (1).pdf', 'report.pdf'])
  }, 120_000)

  it('anoncrypt: only the recipient opens the key (a stranger gets a typed error, nothing written); the sender stays unknown', async () => {
    const dir = tempDir('carrier-qr-anon-')
    const data = seededBytes(20_000, 42)
    await encodeFileToDir(data, join(dir, 'frames'), { to: bob.did, filename: '../../etc/passwd', scale: 3 })
    const out = join(dir, 'inbox')
    mkdirSync(out)
    await expect(decodeFileFrom([join(dir, 'frames')], { out, identity: alice })).rejects.toMatchObject({
      name: 'DIDCommError',
      code: expect.stringMatching(/^ERR_DIDCOMM_/),
    })
    await expect(decodeFileFrom([join(dir, 'frames')], { out })).rejects.toMatchObject({ name: 'DIDCommError' })
    expect(readdirSync(out)).toEqual([])
    const got = await decodeFileFrom([join(dir, 'frames')], { out, identity: bob })
    expect(got).toMatchObject({ protection: 'anoncrypt', filename: '../../etc/passwd', sha256: hex(data) })
    expect(got.from).toBeUndefined()
    // a hostile name is made safe: only its last segment, inside the folder
    expect(readdirSync(out)).toEqual(['passwd'])
  }, 60_000)

  it('no recipient: the key is in the codes in the clear, and the file still verifies segment by segment', async () => {
    const dir = tempDir('carrier-qr-plain-')
    const data = seededBytes(20_000, 43)
    const enc = await encodeFileToDir(data, join(dir, 'frames'), { filename: 'notes.txt', scale: 3 })
    expect(enc.protection).toBe('plaintext')
    const got = await decodeFileFrom([join(dir, 'frames')], { out: join(dir, 'received.txt') })
    expect(got).toMatchObject({ protection: 'plaintext', path: join(dir, 'received.txt'), sha256: hex(data) })
    expect(got.from).toBeUndefined()
  }, 60_000)

  it('too few codes: a clear typed error, nothing written', async () => {
    const dir = tempDir('carrier-qr-short-')
    await encodeFileToDir(seededBytes(50_000, 44), join(dir, 'frames'), { filename: 'x.bin', scale: 3 })
    for (const f of readdirSync(join(dir, 'frames')).slice(8)) rmSync(join(dir, 'frames', f))
    const out = join(dir, 'inbox')
    mkdirSync(out)
    await expect(decodeFileFrom([join(dir, 'frames')], { out })).rejects.toMatchObject({ code: 'ERR_QR_INCOMPLETE' })
    expect(readdirSync(out)).toEqual([])
  }, 60_000)
})

describe('hostile QR streams: a typed error and nothing written', () => {
  const data = seededBytes(12_000, 45)

  async function decodeHostile(
    s: { share: EncryptedShare; ciphertext: Uint8Array },
    o: { to?: string; tamper?: (frame: Uint8Array) => Uint8Array | undefined } = {},
  ) {
    const dir = tempDir('carrier-qr-hostile-')
    const frames = join(dir, 'frames')
    const { envelope, mediaType } = await packShare(s.share, o.to ? { to: o.to, from: alice } : {})
    await writeShareFrames(frames, { envelope, mediaType, ciphertext: s.ciphertext }, { scale: 3 })
    if (o.tamper) {
      for (const f of readdirSync(frames)) {
        const bytes = await decodeQrBytesWasm(decodePng(readFileSync(join(frames, f))))
        const changed = bytes && o.tamper(bytes)
        if (changed)
          writeFileSync(join(frames, f), encodePng(modulesToImage(frameToModules(changed, { version: 20 }), { scale: 3 })))
      }
    }
    const out = join(dir, 'inbox')
    mkdirSync(out)
    const result = await decodeFileFrom([frames], { out, identity: bob }).catch((e: unknown) => e)
    return { result, written: readdirSync(out) }
  }

  it('the honest stream of the same builder decodes (the cases below differ only in what they change)', async () => {
    const { result, written } = await decodeHostile(shareOf(data), { to: bob.did })
    expect(result).toMatchObject({ sha256: hex(data), protection: 'authcrypt' })
    expect(written).toEqual(['photo.jpg'])
  }, 60_000)

  it('a wrong key: the first segment does not verify', async () => {
    const s = shareOf(data, (share) => {
      share.params = { ...share.params, key: newStreamParams().key }
    })
    const { result, written } = await decodeHostile(s, { to: bob.did })
    expect(result).toMatchObject({
      name: 'FileCipherError',
      code: 'ERR_FILE_INTEGRITY',
      message: expect.stringMatching(/segment 0/),
    })
    expect(written).toEqual([])
  }, 60_000)

  it('a share whose plaintext hash does not match the file: refused after decryption, before it is placed', async () => {
    const s = shareOf(data, (share) => {
      share.plainSha256 = hex(seededBytes(12_000, 46))
    })
    const { result, written } = await decodeHostile(s, { to: bob.did })
    expect(result).toMatchObject({
      name: 'FileCipherError',
      code: 'ERR_FILE_INTEGRITY',
      message: expect.stringMatching(/SHA-256/),
    })
    expect(written).toEqual([])
  }, 60_000)

  it('a ciphertext that is not the one the share announces (one byte changed, its stream consistent)', async () => {
    const s = shareOf(data, (_share, c) => {
      c.ciphertext = c.ciphertext.slice()
      c.ciphertext[5000] = (c.ciphertext[5000] as number) ^ 1
    })
    const { result, written } = await decodeHostile(s, { to: bob.did })
    expect(result).toMatchObject({
      name: 'FileCipherError',
      code: 'ERR_FILE_INTEGRITY',
      message: expect.stringMatching(/not the one/),
    })
    expect(written).toEqual([])
  }, 60_000)

  it('the same with the hash changed to match (a plaintext share anyone could rewrite): the segment tag fails', async () => {
    const s = shareOf(data, (share, c) => {
      c.ciphertext = c.ciphertext.slice()
      c.ciphertext[5000] = (c.ciphertext[5000] as number) ^ 1
      share.cipherSha256 = hex(c.ciphertext)
    })
    const { result, written } = await decodeHostile(s)
    expect(result).toMatchObject({
      name: 'FileCipherError',
      code: 'ERR_FILE_INTEGRITY',
      message: expect.stringMatching(/segment 0 .*verify/),
    })
    expect(written).toEqual([])
  }, 60_000)

  it('tampered symbol bytes in every ciphertext code (their CRC recomputed, as an attacker re-rendering codes)', async () => {
    let shareTid: number | undefined
    const tamper = (frame: Uint8Array) => {
      const tid = new DataView(frame.buffer, frame.byteOffset).getUint32(1)
      shareTid ??= tid // the first code is the announcement's
      if (tid === shareTid) return undefined
      const f = frame.slice()
      f[20] = (f[20] as number) ^ 0x80 // a payload byte (the header is 14 bytes)
      new DataView(f.buffer).setUint32(f.length - 4, crc32(f.subarray(0, f.length - 4), 0))
      return f
    }
    const { result, written } = await decodeHostile(shareOf(data), { to: bob.did, tamper })
    expect(result).toMatchObject({ name: 'FileCipherError', code: 'ERR_FILE_INTEGRITY' })
    expect(written).toEqual([])
  }, 60_000)

  it('a stream with no share-media: a typed error, not a file', async () => {
    const dir = tempDir('carrier-qr-noshare-')
    await writeShareFrames(
      join(dir, 'frames'),
      { envelope: '{"id":"1","type":"https://example.org/other","body":{}}', mediaType: MEDIA_PLAIN, ciphertext: data },
      { scale: 3 },
    )
    const out = join(dir, 'inbox')
    mkdirSync(out)
    await expect(decodeFileFrom([join(dir, 'frames')], { out })).rejects.toMatchObject({ code: 'ERR_QR_INCOMPLETE' })
    expect(readdirSync(out)).toEqual([])
  }, 60_000)
})
