import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { chainResolvers, didOf, type Resolver, staticResolver, staticSecrets } from '../../src/did/document.js'
import { didKeyResolver } from '../../src/did/key.js'
import { didPeerResolver, type PeerIdentity } from '../../src/did/peer.js'
import { b64u } from '../../src/didcomm/b64u.js'
import { packEncrypted, packPlaintext, unpack } from '../../src/didcomm/pack.js'
import { type EncryptedShare, isEncryptedShare, parseShare, shareMessage } from '../../src/files/share.js'
import { FileCipherError, newStreamParams, StreamOpener, sealAll } from '../../src/files/stream-aead.js'
import { CarrierError, IntegrityError, type Link, type Received } from '../../src/transport.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { SYMBOL_OVERHEAD } from '../../src/wire/frame.js'
import { MEDIA_ENCRYPTED, MEDIA_OCTETS, MEDIA_PLAIN, MEDIA_SIGNED } from '../../src/wire/media.js'
import { placeNew, TEMP_PREFIX } from '../fs/save.js'
import { QrCameraLink } from './camera.js'
import { byteCapacity, defaultVersion, type Ecc, frameToModules } from './capacity.js'
import { type EncodedFrames, imagesIn, NotEnoughFramesError } from './files.js'
import { decodePng, encodePng, modulesToImage } from './image.js'

/**
 * A file over animated QR codes, encrypted once (docs/FILES.md "Encrypted blob format, version 1"):
 * two fountain transfers interleaved in one stream of codes — the ciphertext (octets) and the
 * announcement, a media-sharing `share-media` carrying the content key and both SHA-256s. The
 * announcement goes authcrypt when the sender has an identity, anoncrypt when only the
 * recipient's DID is known, and as a plaintext message when no recipient is known (then the
 * codes themselves are the channel: whoever sees them can read the file).
 */

/** How the announcement (and so the key) was protected. */
export type Protection = 'authcrypt' | 'anoncrypt' | 'plaintext'

export interface FileFramesOptions {
  /** The recipient's DID: the announcement is encrypted to it. */
  to?: string
  /** The sender: authcrypt from it (needs `to`); without it, anoncrypt. */
  from?: PeerIdentity
  resolver?: Resolver
  /** The name the receiver is offered (made safe there). */
  filename: string
  mediaType?: string
  /** Codes in all; default twice what a receiver needs of each transfer, plus 24 (any half decodes). */
  frames?: number
  version?: number
  ecc?: Ecc
  scale?: number
  onFrame?: (n: number) => void
}

export interface EncodedFile extends EncodedFrames {
  protection: Protection
  id: string
  plainBytes: number
  cipherBytes: number
  /** Codes that carry the announcement (spread evenly, the first code is one). */
  announcementFrames: number
}

const defaultResolver = (from?: PeerIdentity) =>
  chainResolvers(didPeerResolver, didKeyResolver, staticResolver(from ? [from.document] : []))
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** The announcement of `share`, packed as `o` says. */
export async function packShare(
  share: EncryptedShare,
  o: { to?: string; from?: PeerIdentity; resolver?: Resolver },
): Promise<{ envelope: string; mediaType: string; protection: Protection }> {
  const message = shareMessage(share)
  if (!o.to) {
    if (o.from) throw new CarrierError('ERR_USAGE', 'authcrypt needs the recipient (to) as well as the sender')
    return { envelope: packPlaintext(message), mediaType: MEDIA_PLAIN, protection: 'plaintext' }
  }
  message.to = [o.to]
  if (o.from) message.from = o.from.did
  const packed = await packEncrypted(message, {
    to: o.to,
    from: o.from?.did,
    forward: false, // the recipient reads the codes itself: no mediator in between
    resolver: o.resolver ?? defaultResolver(o.from),
    secrets: staticSecrets(o.from?.secrets ?? []),
  })
  return { envelope: packed.packed, mediaType: MEDIA_ENCRYPTED, protection: o.from ? 'authcrypt' : 'anoncrypt' }
}

/** Encrypts `plaintext` with a fresh key and writes the codes of its share and ciphertext into `dir`. */
export async function encodeFileToDir(plaintext: Uint8Array, dir: string, o: FileFramesOptions): Promise<EncodedFile> {
  const params = newStreamParams()
  const ciphertext = sealAll(params, plaintext)
  const id = b64u.encode(randomBytes(16))
  const share: EncryptedShare = {
    id,
    filename: o.filename,
    mediaType: o.mediaType ?? MEDIA_OCTETS,
    plainBytes: plaintext.length,
    plainSha256: hex(plaintext),
    cipherBytes: ciphertext.length,
    cipherSha256: hex(ciphertext),
    params,
    links: [`didcomm-transfer:${id}`],
  }
  const { envelope, mediaType, protection } = await packShare(share, o)
  const r = await writeShareFrames(dir, { envelope, mediaType, ciphertext }, o)
  return { ...r, protection, id, plainBytes: plaintext.length, cipherBytes: ciphertext.length }
}

/** A Link that keeps the frames a fountain sender makes, up to its budget. */
function collector(mtu: number, onFrame: (f: Uint8Array) => Promise<void>): Link {
  return { duplex: false, mtu, send: (f) => onFrame(f.slice()), onFrame: () => () => {}, close: async () => {} }
}

const blocks = (bytes: number, mtu: number) => Math.ceil((bytes + 300) / (mtu - SYMBOL_OVERHEAD))

/**
 * The codes of an announcement and a ciphertext, interleaved into one folder of PNGs: the
 * announcement's codes evenly spread (at least one in 16, and twice what it needs plus 4; the
 * first code is one), so a camera that joins anywhere gets it early and any half of the codes holds it. Exported for tests that build hostile streams.
 */
export async function writeShareFrames(
  dir: string,
  s: { envelope: string | Uint8Array; mediaType: string; ciphertext: Uint8Array },
  o: { frames?: number; version?: number; ecc?: Ecc; scale?: number; onFrame?: (n: number) => void } = {},
): Promise<EncodedFrames & { announcementFrames: number }> {
  const ecc = o.ecc ?? 'L'
  const version = o.version ?? defaultVersion(s.ciphertext.length)
  const mtu = byteCapacity(version, ecc)
  const envelopeBytes = typeof s.envelope === 'string' ? Buffer.byteLength(s.envelope) : s.envelope.length
  const ka = blocks(envelopeBytes, mtu)
  const kc = blocks(s.ciphertext.length, mtu)
  let fa: number
  let fc: number
  if (o.frames === undefined) {
    fc = 2 * kc + 20
    fa = Math.max(2 * ka + 4, Math.ceil(fc / 16))
  } else {
    fa = Math.min(o.frames - 1, Math.max(ka, Math.round(o.frames * Math.max(1 / 16, ka / (ka + kc)))))
    fc = o.frames - fa
    if (fa < 1 || fc < 1) throw new CarrierError('ERR_USAGE', `${o.frames} frames cannot hold a share and its ciphertext`)
  }
  const total = fa + fc
  const announcement: Uint8Array[] = []
  await createTransport(collector(mtu, async (f) => void announcement.push(f))).send(s.envelope, {
    frameBudget: fa,
    mediaType: s.mediaType,
  })
  await mkdir(dir, { recursive: true })
  let n = 0
  const write = async (frame: Uint8Array) => {
    n++
    const png = encodePng(modulesToImage(frameToModules(frame, { version, ecc }), { scale: o.scale ?? 4 }))
    await writeFile(join(dir, `frame-${String(n).padStart(5, '0')}.png`), png)
    o.onFrame?.(n)
  }
  let a = 0
  // announcement code a goes at position ⌊a·total/fa⌋
  const due = async () => {
    while (a < fa && Math.floor((a * total) / fa) <= n) await write(announcement[a++] as Uint8Array)
  }
  await createTransport(
    collector(mtu, async (f) => {
      await due()
      await write(f)
    }),
  ).send(s.ciphertext, { frameBudget: fc, mediaType: MEDIA_OCTETS, compress: false })
  while (a < fa) await write(announcement[a++] as Uint8Array)
  return { frames: n, version, ecc, symbolsNeeded: ka + kc, announcementFrames: fa }
}

export interface DecodedFile {
  /** Where the file went (never over an existing file). */
  path: string
  /** The name the sender offered. */
  filename: string
  bytes: number
  sha256: string
  protection: Protection
  /** The sender's DID, only when the announcement was authenticated (authcrypt, or signed). */
  from?: string
  codes: number
}

/**
 * Reads the codes in `paths` until a share and its ciphertext are whole, checks the ciphertext
 * against the share's SHA-256, opens it segment by segment (each tag verified before its bytes
 * are written), checks the plaintext's SHA-256 and only then puts the file in place: `out` is a
 * folder (the sender's name, made safe) or a file name; nothing is overwritten (`name (1).ext`).
 * Errors: FileCipherError ERR_FILE_INTEGRITY (a hash or a tag does not match), IntegrityError
 * (a stream failed its SHA-256 on the wire), DIDCommError (an announcement we cannot open),
 * NotEnoughFramesError.
 */
export async function decodeFileFrom(
  paths: string[],
  o: { out: string; identity?: PeerIdentity; resolver?: Resolver; onProgress?: (rank: number, k: number) => void },
): Promise<DecodedFile> {
  const camera = new QrCameraLink()
  const ranks = new Map<string, [number, number]>()
  const blobs: Uint8Array[] = []
  const got: { share?: { share: EncryptedShare; protection: Protection; from?: string }; failure?: CarrierError } = {}
  // transfers whose last symbol is in and whose delivery (or drop) has not happened yet
  const finishing = new Set<string>()
  const onMessage = async (r: Received) => {
    try {
      await take(r)
    } finally {
      finishing.delete(r.transferId)
    }
  }
  const take = async (r: Received) => {
    if (r.mediaType === MEDIA_OCTETS) {
      if (blobs.length < 4) blobs.push(r.data)
      return
    }
    if (![MEDIA_ENCRYPTED, MEDIA_SIGNED, MEDIA_PLAIN].includes(r.mediaType) || got.share) return
    try {
      const { message, metadata } = await unpack(r.data, {
        resolver: o.resolver ?? defaultResolver(o.identity),
        secrets: staticSecrets(o.identity?.secrets ?? []),
      })
      if (!isEncryptedShare(message)) return
      const protection: Protection = !metadata.encrypted ? 'plaintext' : metadata.encryptedFrom ? 'authcrypt' : 'anoncrypt'
      const signer = metadata.encryptedFrom ?? metadata.signFrom
      const from = metadata.authenticated && signer ? didOf(signer) : undefined
      got.share = { share: parseShare(message), protection, ...(from ? { from } : {}) }
    } catch (err) {
      got.failure = err instanceof CarrierError ? err : new CarrierError('ERR_QR_SHARE', String(err))
    }
  }
  const transport = createTransport(camera, {
    onMessage,
    onDrop: (err, id) => {
      if (err instanceof IntegrityError) got.failure ??= err
      if (id) finishing.delete(id)
    },
    onProgress: (p) => {
      if (p.received === p.total) finishing.add(p.transferId)
      ranks.set(p.transferId, [p.received, p.total])
      let rank = 0
      let k = 0
      for (const [r, t] of ranks.values()) {
        rank += r
        k += t
      }
      o.onProgress?.(rank, k)
    },
  })
  try {
    for (const image of await imagesIn(paths)) {
      await camera.feed(decodePng(new Uint8Array(await readFile(image))))
      await new Promise((r) => setImmediate(r))
      if (got.share && blobs.length > 0) break
    }
    // the codes ran out: let the streams already whole be checked and delivered
    while (finishing.size > 0 && !(got.share && blobs.length > 0)) await new Promise((r) => setTimeout(r, 5))
  } finally {
    await transport.close()
  }
  const { share, failure } = got
  if (!share) {
    if (failure) throw failure
    const [rank, k] = [...ranks.values()].reduce(([a, b], [r, t]) => [a + r, b + t], [0, 0])
    throw new NotEnoughFramesError(
      `not enough frames to decode: ${rank}/${k || '?'} independent symbols from ${camera.decoded} codes, no share-media yet`,
    )
  }
  const { share: s } = share
  const blob = blobs.find((b) => b.length === s.cipherBytes && hex(b) === s.cipherSha256)
  if (!blob) {
    if (blobs.length > 0 || failure instanceof IntegrityError)
      throw new FileCipherError('ERR_FILE_INTEGRITY', 'the ciphertext in these codes is not the one the share-media announces')
    throw new NotEnoughFramesError(
      `not enough frames to decode: the share-media is in, its ciphertext is not (${camera.decoded} codes)`,
    )
  }
  const { path, sha256 } = await writeDecrypted(s, blob, o.out)
  return { path, filename: s.filename, bytes: s.plainBytes, sha256, ...share, codes: camera.decoded }
}

/** Opens the ciphertext into a temp file beside `out`, checks the plaintext's SHA-256, then places it. */
async function writeDecrypted(s: EncryptedShare, ciphertext: Uint8Array, out: string): Promise<{ path: string; sha256: string }> {
  const isDir = await stat(out).then(
    (st) => st.isDirectory(),
    () => out.endsWith('/'),
  )
  const dir = isDir ? out : dirname(out)
  await mkdir(dir, { recursive: true })
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}.tmp`)
  const fh = await open(temp, 'wx')
  try {
    const opener = new StreamOpener(s.params, s.cipherBytes)
    const h = createHash('sha256')
    const write = async (plain: Uint8Array[]) => {
      for (const p of plain) {
        h.update(p)
        await fh.write(p)
      }
    }
    const CHUNK = 1024 * 1024
    for (let at = 0; at < ciphertext.length; at += CHUNK) await write(opener.push(ciphertext.subarray(at, at + CHUNK)))
    await write([opener.end()])
    await fh.close()
    const sha256 = h.digest('hex')
    if (sha256 !== s.plainSha256)
      throw new FileCipherError('ERR_FILE_INTEGRITY', 'the decrypted file does not match the SHA-256 the share-media announces')
    const name = await placeNew(dir, isDir ? s.filename : basename(out), temp)
    return { path: join(dir, name), sha256 }
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw err
  }
}
