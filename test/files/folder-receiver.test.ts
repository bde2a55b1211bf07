import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FolderReceiver, type ReceiverEvent } from '../../adapters/fs/index.js'
import { sha256 } from '../../adapters/fs/save.js'
import type { Message, UnpackMetadata } from '../../src/didcomm/pack.js'
import { type FileStatus, offerMessage, parseStatus, partMessage } from '../../src/protocols/file-transfer.js'
import { seededBytes } from '../../src/testing/prng.js'
import { tempDir } from '../support/temp.js'

const ALICE = 'did:example:alice'
const auth = { encrypted: true, authenticated: true } as UnpackMetadata
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function setup(o: { maxPartialBytes?: number; partialTtlMs?: number; now?: () => number } = {}) {
  const dir = tempDir('carrier-recv-')
  dirs.push(dir)
  const statuses: FileStatus[] = []
  const events: ReceiverEvent[] = []
  const make = () =>
    new FolderReceiver(
      { dir, ...o },
      async (m) => {
        statuses.push(parseStatus(m))
      },
      (e) => events.push(e),
    )
  return { dir, statuses, events, make }
}

const PART = 1000
const file = seededBytes(4500, 3)
const fileSha = createHash('sha256').update(file).digest('hex')
const offer = (o: Partial<Parameters<typeof offerMessage>[0]> = {}) =>
  from(
    offerMessage({
      transferId: 'transfer-0001',
      filename: 'data.bin',
      mediaType: 'application/octet-stream',
      size: file.length,
      sha256: fileSha,
      partBytes: PART,
      count: 5,
      ...o,
    }),
  )
const part = (i: number, bytes = file.subarray(i * PART, (i + 1) * PART)) =>
  from(
    partMessage(
      { transferId: 'transfer-0001', index: i, count: 5, offset: i * PART, size: file.length, sha256: fileSha, bytes },
      sha256,
    ),
  )
const from = (m: Message, who = ALICE): Message => ({ ...m, from: who })
const settle = () => new Promise((r) => setTimeout(r, 20))

describe('FolderReceiver', () => {
  it('takes parts in any order, answers each with what it holds, and renames the file into place once its SHA-256 matches', async () => {
    const { dir, statuses, events, make } = setup()
    const r = make()
    await r.init()
    await r.handle(offer(), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ held: [], complete: false })
    for (const i of [3, 0, 4, 1]) await r.handle(part(i), auth)
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([])
    await r.handle(part(2), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ held: [[0, 5]], complete: true })
    expect(readFileSync(join(dir, 'data.bin'))).toEqual(Buffer.from(file))
    expect(events.at(-1)).toMatchObject({ kind: 'file', file: { name: 'data.bin', bytes: file.length, sha256: fileSha } })
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial') || n.endsWith('.json'))).toEqual([])
    // a late offer of the same file is answered "complete", not taken again
    await r.handle(offer(), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ complete: true })
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual(['data.bin'])
  })

  it('a new receiver on the same folder resumes: it re-verifies the parts on disk and drops a damaged one', async () => {
    const { dir, statuses, make } = setup()
    const first = make()
    await first.init()
    await first.handle(offer(), auth)
    for (const i of [0, 1, 2]) await first.handle(part(i), auth)
    await first.close()
    // damage part 1 on disk, as a crash or a disk error might
    const partial = readdirSync(dir).find((n) => n.endsWith('.partial')) as string
    const bytes = readFileSync(join(dir, partial))
    bytes.writeUInt8(bytes.readUInt8(PART + 10) ^ 0xff, PART + 10)
    writeFileSync(join(dir, partial), bytes)
    const second = make()
    await second.init()
    await second.handle(offer(), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({
      held: [
        [0, 1],
        [2, 3],
      ],
      complete: false,
    })
    for (const i of [1, 3, 4]) await second.handle(part(i), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ complete: true })
    expect(readFileSync(join(dir, 'data.bin'))).toEqual(Buffer.from(file))
  })

  it('parts of a transfer it holds no state for are answered "unknown", so the sender offers again', async () => {
    const { statuses, make } = setup()
    const r = make()
    await r.init()
    await r.handle(part(0), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ known: false, held: [] })
  })

  it('refuses parts from another sender, parts that do not fit the offer, and anonymous offers', async () => {
    const { statuses, make } = setup()
    const r = make()
    await r.init()
    await r.handle(offer(), auth)
    await r.handle(from(part(0), 'did:example:mallory'), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ known: false })
    const short = part(1, file.subarray(PART, PART + 10))
    await expect(r.handle(short, auth)).rejects.toMatchObject({ code: 'ERR_FILE_REFUSED' })
    await settle()
    expect(statuses.at(-1)?.refused).toMatch(/length/)
    await expect(r.handle(offer(), { encrypted: true, authenticated: false } as UnpackMetadata)).rejects.toMatchObject({
      code: 'ERR_FILE_REFUSED',
    })
  })

  it('a file whose parts match but whole SHA-256 does not is discarded and the sender told', async () => {
    const { dir, statuses, make } = setup()
    const r = make()
    await r.init()
    await r.handle(offer({ sha256: 'b'.repeat(64) }), auth)
    const wrongWhole = (i: number) =>
      from(
        partMessage(
          {
            transferId: 'transfer-0001',
            index: i,
            count: 5,
            offset: i * PART,
            size: file.length,
            sha256: 'b'.repeat(64),
            bytes: file.subarray(i * PART, (i + 1) * PART),
          },
          sha256,
        ),
      )
    for (const i of [0, 1, 2, 3]) await r.handle(wrongWhole(i), auth)
    await expect(r.handle(wrongWhole(4), auth)).rejects.toMatchObject({ code: 'ERR_FILE_REFUSED' })
    await settle()
    expect(statuses.at(-1)?.refused).toMatch(/SHA-256/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses an offer beyond the partial-size cap, and removes partial state older than its TTL', async () => {
    let now = Date.now()
    const { dir, statuses, make } = setup({ maxPartialBytes: 6000, partialTtlMs: 60_000, now: () => now })
    const r = make()
    await r.init()
    await r.handle(offer(), auth)
    await r.handle(part(0), auth)
    await r.handle(offer({ transferId: 'transfer-0002' }), auth)
    await settle()
    expect(statuses.at(-1)).toMatchObject({ transferId: 'transfer-0002', refused: 'no room for more partial files' })
    await r.close()
    for (const n of readdirSync(dir)) utimesSync(join(dir, n), new Date(now - 120_000), new Date(now - 120_000))
    now += 1000
    const later = make()
    await later.init()
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('FolderReceiver.close', () => {
  it('waits for the complete status still being sent, so a listener that stops after the file (listen --count) never strands the sender', async () => {
    const dir = tempDir('carrier-recv-')
    dirs.push(dir)
    const delivered: FileStatus[] = []
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const r = new FolderReceiver({ dir }, async (m) => {
      const s = parseStatus(m)
      if (s.complete) await gate // the transport takes its time to confirm the last status
      delivered.push(s)
    })
    await r.init()
    await r.handle(offer(), auth)
    for (let i = 0; i < 5; i++) await r.handle(part(i), auth)
    let closed = false
    const closing = r.close().then(() => {
      closed = true
    })
    await settle()
    expect(closed).toBe(false) // before the fix close() returned at once and the process exited
    release()
    await closing
    expect(delivered.at(-1)?.complete).toBe(true)
  })
})
