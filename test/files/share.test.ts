import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/didcomm/pack.js'
import {
  cipherBytesOf,
  type EncryptedShare,
  isEncryptedShare,
  newStreamParams,
  openAll,
  parseShare,
  sealAll,
  shareMessage,
} from '../../src/files/index.js'
import { offerMessage, parseOffer } from '../../src/protocols/file-transfer.js'
import { seededBytes } from '../../src/testing/index.js'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function share(): { s: EncryptedShare; plain: Uint8Array; cipher: Uint8Array } {
  const plain = seededBytes(70_000, 3)
  const params = newStreamParams(16 * 1024)
  const cipher = sealAll(params, plain)
  const s: EncryptedShare = {
    id: 'blob-0001',
    filename: 'photo.jpg',
    mediaType: 'image/jpeg',
    plainBytes: plain.length,
    plainSha256: sha(plain),
    cipherBytes: cipher.length,
    cipherSha256: sha(cipher),
    params,
    links: [`https://mediator.example/blobs/${sha(cipher)}`],
  }
  return { s, plain, cipher }
}

/** The message as a receiver gets it: through JSON, like any envelope's plaintext. */
const wire = (m: Message) => JSON.parse(JSON.stringify(m)) as Message & { body: Record<string, unknown> }

describe('share-media with ciphering (encrypted blob v1)', () => {
  it('carries everything a receiver needs to fetch, verify and decrypt the blob', () => {
    const { s, plain, cipher } = share()
    const m = wire(shareMessage(s))
    expect(isEncryptedShare(m)).toBe(true)
    const got = parseShare(m)
    expect(got).toEqual(s)
    expect(sha(cipher)).toBe(got.cipherSha256)
    expect(openAll(got.params, cipher)).toEqual(plain)
    // media-sharing 1.0 readers see a well-formed share: an item naming an attachment with links and a ciphering
    const item = (m.body.items as { ciphering?: { algorithm?: string } }[])[0]
    expect(item?.ciphering?.algorithm).toBe('aes-256-gcm-stream')
    expect(m.attachments?.[0]?.data.links).toEqual(s.links)
  })

  it('is told apart from the part-per-message offer in both directions', () => {
    const offer = offerMessage({
      transferId: 'abcdefgh',
      filename: 'a',
      mediaType: 'text/plain',
      size: 3,
      partBytes: 1024,
      count: 1,
    })
    expect(isEncryptedShare(offer)).toBe(false)
    expect(() => parseShare(offer)).toThrow(/not a/)
    expect(() => parseOffer(shareMessage(share().s))).toThrow(/file-transfer parts/)
  })

  it('refuses a share whose fields do not hold together, with ERR_DIDCOMM_MALFORMED', () => {
    const { s } = share()
    // biome-ignore lint/suspicious/noExplicitAny: the test edits the message as untyped JSON, as a sender could
    type Json = Record<string, any>
    const edit = (f: (item: Json, attachment: Json) => void) => {
      const m = wire(shareMessage(s))
      f((m.body.items as Json[])[0] as Json, (m.attachments ?? [])[0] as Json)
      try {
        parseShare(m)
      } catch (e) {
        return (e as { code?: string }).code
      }
      return 'accepted'
    }
    expect(edit(() => {})).toBe('accepted')
    expect(edit((i) => (i.ciphering.parameters.key = 'ab'))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.ciphering.parameters.iv = 'zz'.repeat(7)))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.ciphering.parameters.version = 2))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.ciphering.parameters.segment_size = 10))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.metadata.size = s.plainBytes + 1))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.metadata.sha256 = 'x'))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((_, a) => a.byte_count++)).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((_, a) => (a.data.hash = 'zBad'))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((_, a) => (a.data.links = []))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(edit((i) => (i.attachment_id = 'other'))).toBe('ERR_DIDCOMM_MALFORMED')
    expect(cipherBytesOf(s.plainBytes, s.params.segmentBytes)).toBe(s.cipherBytes)
  })
})
