import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EmbeddedBroker, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import { seededBytes } from '../../src/testing/prng.js'
import { runCarrier as carrier, jsonLines, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'

let broker: EmbeddedBroker
beforeAll(async () => {
  broker = await startEmbeddedBroker({ maxPacketBytes: 256 * 1024 })
})
afterAll(async () => {
  await broker?.close()
})

describe('carrier send / send-file / listen over MQTT', () => {
  it('a text message and a 20 MB file reach the listener, authcrypted, the file hash-checked', async () => {
    const dir = tempDir('carrier-agent-cli-')
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    expect((await carrier('keys', 'new', '--out', alice, '--service', broker.url)).code).toBe(0)
    const made = await carrier('--json', 'keys', 'new', '--out', bob, '--service', broker.url)
    const bobDid = JSON.parse(made.stdout).did as string
    const out = join(dir, 'inbox')
    const listener = startCarrier('--json', 'listen', '--identity', bob, '--out', out, '--count', '2', '--require-auth')
    await listener.line(/"event":"ready"/)
    const sent = await carrier('--json', 'send', '--identity', alice, '--to', bobDid, '--text', 'hello bob')
    expect(sent.code, sent.stderr).toBe(0)
    expect(JSON.parse(sent.stdout)).toMatchObject({ command: 'send', confirmed: true })
    const file = join(dir, 'big.bin')
    const bytes = seededBytes(20 * 1024 * 1024, 7)
    writeFileSync(file, bytes)
    const sentFile = await carrier('--json', 'send-file', file, '--identity', alice, '--to', bobDid)
    expect(sentFile.code, sentFile.stderr).toBe(0)
    expect(jsonLines(sentFile.stdout).at(-1)).toMatchObject({ event: 'file', confirmed: true, bytes: bytes.length, parts: 40 })
    expect(await listener.exited, listener.stderr()).toBe(0)
    const events = jsonLines<{ event: string; id: string; authenticated: boolean; files: string[] }>(listener.stdout())
    const lines = events.filter((e) => e.event === 'message')
    expect(lines).toHaveLength(2)
    expect(events.filter((e) => e.event === 'file')).toHaveLength(1)
    expect(lines.every((x) => x.authenticated)).toBe(true)
    expect(lines[1]?.files).toEqual(['big.bin'])
    const got = readFileSync(join(out, 'big.bin'))
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
    const first = JSON.parse(readFileSync(join(out, `${lines[0]?.id}.json`), 'utf8'))
    expect(first.body).toEqual({ content: 'hello bob' })
    // the file is stored once, as its bytes: the message JSON beside it is metadata
    const offer = readFileSync(join(out, `${lines[1]?.id}.json`), 'utf8')
    expect(offer.length).toBeLessThan(4096)
    expect(JSON.parse(offer).attachments[0]).toMatchObject({
      filename: 'big.bin',
      byte_count: bytes.length + 320 * 16, // the ciphertext's: 320 segments of 64 KiB, each with its tag
      data: { links: ['big.bin'] },
    })
    const names = readdirSync(out)
    expect(names.filter((n) => !n.startsWith('.carrier-')).sort()).toEqual(
      [`${lines[0]?.id}.json`, `${lines[1]?.id}.json`, 'big.bin'].sort(),
    )
    // what is left of the transfer is a small record that it completed (answers a late re-offer);
    // beside it, the ids the listener handed out (a message delivered again is written once)
    const kept = names.filter((n) => n.startsWith('.carrier-') && n !== '.carrier-seen-ids')
    expect(kept).toEqual([expect.stringMatching(/\.done$/)])
    expect(names).toContain('.carrier-seen-ids')
  }, 180_000)

  it('invite → QR image → accept from the image → both ends report the connection', async () => {
    const dir = tempDir('carrier-invite-')
    const alice = join(dir, 'alice.json')
    const bob = join(dir, 'bob.json')
    const aliceDid = JSON.parse((await carrier('--json', 'keys', 'new', '--out', alice, '--service', broker.url)).stdout).did
    const bobDid = JSON.parse((await carrier('--json', 'keys', 'new', '--out', bob, '--service', broker.url)).stdout).did
    const png = join(dir, 'invitation.png')
    const inviting = startCarrier('--json', 'invite', '--identity', alice, '--goal', 'say hello', '--png', png, '--wait', '60000')
    const first = JSON.parse(await inviting.line(/"url"/))
    expect(first.url).toMatch(/^https:\/\/didcomm\.org\/\?_oob=/)
    const accepted = await carrier('--json', 'accept', png, '--identity', bob)
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(JSON.parse(accepted.stdout)).toMatchObject({ command: 'accept', connected: aliceDid, goal: 'say hello' })
    expect(await inviting.exited).toBe(0)
    expect(JSON.parse(await inviting.line(/"connected"/))).toMatchObject({ connected: bobDid, invitation: first.id })
    // an invitation too long for one code goes out as animated frames, and is accepted from them
    const long = startCarrier(
      '--json',
      'invite',
      '--identity',
      alice,
      '--goal',
      'g'.repeat(4000),
      '--png',
      png,
      '--wait',
      '60000',
    )
    const longFirst = JSON.parse(await long.line(/"url"/))
    expect(longFirst.frames).toBe(join(dir, 'invitation-frames'))
    const acceptedLong = await carrier('--json', 'accept', longFirst.frames, '--identity', bob)
    expect(acceptedLong.code, acceptedLong.stderr).toBe(0)
    expect(JSON.parse(acceptedLong.stdout).goal).toBe('g'.repeat(4000))
    expect(await long.exited).toBe(0)
    const bad = await carrier('accept', 'https://didcomm.org/?_oob=bm90LWpzb24', '--identity', bob)
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim()).toMatch(/^carrier: ERR_DIDCOMM_MALFORMED: .*base64url JSON/)
    // hang detection only: 25 s alone on a loaded machine, over 90 s beside other suites
  }, 600_000)

  it('send fails with a one-line typed error for a DID that does not resolve', async () => {
    const dir = tempDir('carrier-agent-cli-')
    const alice = join(dir, 'alice.json')
    await carrier('keys', 'new', '--out', alice, '--service', broker.url)
    const r = await carrier('send', '--identity', alice, '--to', 'did:example:nobody', '--text', 'x')
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^carrier: ERR_DIDCOMM_DID_NOT_FOUND: /)
  }, 60_000)
})
