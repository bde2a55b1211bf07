import { sha256 } from '@noble/hashes/sha2'
import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/didcomm/pack.js'
import {
  FILE_PART,
  fromRanges,
  MAX_NAME_BYTES,
  numberedName,
  offerMessage,
  parseOffer,
  parsePart,
  parseStatus,
  partMessage,
  SHARE_MEDIA,
  safeFilename,
  statusMessage,
  toRanges,
  transferIdFor,
} from '../../src/protocols/file-transfer.js'

const SHA = 'a'.repeat(64)
const first = <T>(list: unknown): T => (list as T[])[0] as T
const offer = {
  transferId: 'transfer-0001',
  filename: 'report.pdf',
  mediaType: 'application/pdf',
  size: 10,
  sha256: SHA,
  partBytes: 4,
  count: 3,
}

describe('file-transfer messages', () => {
  it('an offer is a media-sharing share-media whose item is carried as parts, and parses back', () => {
    const m = offerMessage(offer)
    expect(m.type).toBe(SHARE_MEDIA)
    expect(m.thid).toBe(offer.transferId)
    expect(m.attachments?.[0]).toMatchObject({ id: 'file', filename: 'report.pdf', byte_count: 10 })
    expect(parseOffer(m)).toEqual(offer)
  })

  it('refuses offers that do not add up', () => {
    const bad = (change: (m: Message) => void) => {
      const m = structuredClone(offerMessage(offer))
      change(m)
      return () => parseOffer(m)
    }
    const item = (m: Message) => first<{ '@id': string; metadata: Record<string, unknown> }>(m.body?.items)
    expect(bad((m) => (item(m).metadata.part_count = 2))).toThrow(/part count/)
    expect(bad((m) => (item(m).metadata.part_bytes = 0))).toThrow(/part size/)
    expect(bad((m) => (item(m).metadata.part_bytes = 64 * 1024 * 1024))).toThrow(/part size/)
    expect(bad((m) => (item(m).metadata.sha256 = 'nothex'))).toThrow(/sha256/)
    expect(bad((m) => (first<{ byte_count?: number }>(m.attachments).byte_count = -1))).toThrow(/size/)
    expect(bad((m) => ((m.body as { items: unknown[] }).items = []))).toThrow(/one item/)
    expect(bad((m) => (item(m).metadata.transfer = undefined))).toThrow(/parts/)
    expect(bad((m) => (item(m)['@id'] = '../x'))).toThrow(/transfer id/)
    expect(bad((m) => (first<{ data: { hash?: string } }>(m.attachments).data.hash = 'zother'))).toThrow(/hash/)
  })

  it('a part carries index, count, the file and part SHA-256, and is checked against its own hash', () => {
    const bytes = new Uint8Array([1, 2, 3, 4])
    const m = partMessage({ transferId: offer.transferId, index: 1, count: 3, offset: 4, size: 10, sha256: SHA, bytes }, sha256)
    expect(m.type).toBe(FILE_PART)
    const p = parsePart(m, sha256)
    expect(p).toMatchObject({ index: 1, count: 3, offset: 4, size: 10, sha256: SHA })
    expect([...p.bytes]).toEqual([1, 2, 3, 4])
    const tampered = structuredClone(m)
    first<{ data: { base64: string } }>(tampered.attachments).data.base64 = 'BQYHCA'
    expect(() => parsePart(tampered, sha256)).toThrow(/does not match its SHA-256/)
    const past = structuredClone(m)
    ;(past.body as { offset: number }).offset = 8
    expect(() => parsePart(past, sha256)).toThrow(/past the end/)
    const index = structuredClone(m)
    ;(index.body as { index: number }).index = 3
    expect(() => parsePart(index, sha256)).toThrow(/index/)
    const noBytes = structuredClone(m)
    noBytes.attachments = []
    expect(() => parsePart(noBytes, sha256)).toThrow(/base64 attachment/)
    const notB64 = structuredClone(m)
    first<{ data: { base64: string } }>(notB64.attachments).data.base64 = '!!!'
    expect(() => parsePart(notB64, sha256)).toThrow(/base64url/)
  })

  it('a status lists held parts as ranges; malformed ranges are refused', () => {
    const m = statusMessage({
      transferId: offer.transferId,
      held: toRanges([0, 1, 2, 5, 7, 8]),
      complete: false,
      answers: 'x',
      known: false,
    })
    expect(parseStatus(m)).toEqual({
      transferId: offer.transferId,
      held: [
        [0, 3],
        [5, 6],
        [7, 9],
      ],
      complete: false,
      answers: 'x',
      known: false,
    })
    expect([...fromRanges(parseStatus(m).held, 8)].sort()).toEqual([0, 1, 2, 5, 7])
    for (const held of [[[3, 1]], [[0]], 'all', [[0, 1.5]], [[-1, 2]]]) {
      const bad = structuredClone(m)
      ;(bad.body as { held: unknown }).held = held
      expect(() => parseStatus(bad)).toThrow(/ranges/)
    }
  })

  it('the transfer id is the same for the same file, recipient and part size, and differs otherwise', () => {
    const id = (o: Partial<{ sha256: string; to: string; size: number; partBytes: number }>) =>
      transferIdFor(sha256, { sha256: SHA, to: 'did:example:bob', size: 10, partBytes: 4, ...o })
    expect(id({})).toBe(id({}))
    expect(id({})).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(id({ to: 'did:example:carol' })).not.toBe(id({}))
    expect(id({ partBytes: 8 })).not.toBe(id({}))
  })
})

describe('safeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['..', 'file'],
    ['.', 'file'],
    ['', 'file'],
    [undefined, 'file'],
    [42, 'file'],
    ['../../etc/passwd', 'passwd'],
    ['/abs/path.txt', 'path.txt'],
    ['a\\b\\c.txt', 'c.txt'],
    ['C:\\x.exe', 'x.exe'],
    ['C:x.exe', 'C_x.exe'],
    ['\\\\server\\share\\f', 'f'],
    ['nul\u0000byte.txt', 'nulbyte.txt'],
    ['tab\there\nnl.txt', 'tabherenl.txt'],
    ['\u202etxt.exe', 'txt.exe'],
    ['zero\u200bwidth', 'zerowidth'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['LPT1', '_LPT1'],
    ['COM9.log', '_COM9.log'],
    ['console.txt', 'console.txt'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['...hidden', 'hidden'],
    ['name. ', 'name'],
    ['  spaced  ', 'spaced'],
    ['/', 'file'],
    ['a/..', 'file'],
  ])('%j → %j', (name, safe) => {
    expect(safeFilename(name)).toBe(safe)
  })

  it('bounds the length in UTF-8 bytes and keeps the extension', () => {
    const long = safeFilename(`${'é'.repeat(300)}.tar.gz`)
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(MAX_NAME_BYTES)
    expect(long.endsWith('.gz')).toBe(true)
    expect(safeFilename('x'.repeat(1000))).toHaveLength(MAX_NAME_BYTES)
  })

  it('numbers a second file of the same name before its extension', () => {
    expect(numberedName('report.pdf', 1)).toBe('report (1).pdf')
    expect(numberedName('README', 2)).toBe('README (2)')
    expect(numberedName('report.pdf', 0)).toBe('report.pdf')
  })
})
