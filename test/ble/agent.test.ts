import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bleEndpointTransport, CARRIER_PROFILE, makeBleEndpoint } from '../../adapters/ble/index.js'
import { FolderReceiver, type ReceivedFile, sendFile } from '../../adapters/fs/index.js'
import { makeMqttEndpoint, newInboxKey } from '../../adapters/mqtt/index.js'
import { createAgent } from '../../src/agent.js'
import { createPeerDid, didPeerResolver } from '../../src/did/peer.js'
import { createMessage } from '../../src/didcomm/message.js'
import { seededBytes } from '../../src/testing/prng.js'
import { haveBtvirt } from '../support/btvirt.js'
import { fileThenAnswerOnTheLink } from '../support/link-agents.js'
import { runCarrier, startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'
import { useBtvirt } from '../support/use-btvirt.js'

describe.skipIf(!haveBtvirt())('agents over Bluetooth LE (ble:// endpoints, return_route)', () => {
  const bt = useBtvirt()

  it('a central with no endpoint of its own reaches a ble:// agent, sends it a 2 MB file, and hears back over the same link', {
    timeout: 120_000,
  }, async () => {
    const uri = makeBleEndpoint({ service: CARRIER_PROFILE.service, token: 'kiosk1' })
    await fileThenAnswerOnTheLink({
      // the kiosk lists an MQTT endpoint first, which the phone cannot reach: it picks the ble:// one
      kiosk: {
        identity: createPeerDid({ service: [{ uri: makeMqttEndpoint('mqtt://127.0.0.1:1', newInboxKey()) }, { uri }] }),
        transport: await bleEndpointTransport({ hci: bt.hci, listen: { token: 'kiosk1' } }),
        uri,
      },
      phone: { identity: createPeerDid(), transport: await bleEndpointTransport({ hci: bt.hci }) },
      file: seededBytes(2 * 1024 * 1024, 61),
      filename: 'scan.bin',
    })
  })

  it('sendFile from a central with no endpoint to a FolderReceiver at a ble:// agent: the ciphertext as bytes over the connection, statuses back over it', {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir('carrier-ble-sendfile-')
    const uri = makeBleEndpoint({ service: CARRIER_PROFILE.service, token: 'kiosk3' })
    const kiosk = createAgent({
      identity: createPeerDid({ service: { uri } }),
      resolver: didPeerResolver,
      transports: [await bleEndpointTransport({ hci: bt.hci, listen: { token: 'kiosk3' } })],
    })
    const phone = createAgent({
      identity: createPeerDid(),
      resolver: didPeerResolver,
      transports: [await bleEndpointTransport({ hci: bt.hci })],
    })
    const files: ReceivedFile[] = []
    const receiver = new FolderReceiver(
      { dir: join(dir, 'in') },
      (status, to) => kiosk.send(status, { to }),
      (e) => {
        if (e.kind === 'file') files.push(e.file)
      },
    )
    await receiver.init()
    const detach = receiver.attach(kiosk)
    kiosk.receive()
    try {
      const data = seededBytes(300_000, 62)
      writeFileSync(join(dir, 'scan.bin'), data)
      // 64 KiB chunks: several wire transfers, as a real radio's chunk time-out asks (docs/FILES.md)
      const r = await sendFile(phone, join(dir, 'scan.bin'), { to: kiosk.did, partBytes: 64 * 1024, segmentBytes: 16 * 1024 })
      const sha256 = createHash('sha256').update(data).digest('hex')
      // 300,000 bytes in 19 segments of 16 KiB, 4 a chunk: 5 chunks (a stalled machine may resend one)
      expect(r).toMatchObject({ segments: 19, parts: 5, sha256 })
      expect(r.partsSent).toBeGreaterThanOrEqual(5)
      expect(files).toEqual([expect.objectContaining({ name: 'scan.bin', bytes: 300_000, sha256 })])
      expect(readFileSync(join(dir, 'in', 'scan.bin')).equals(Buffer.from(data))).toBe(true)
    } finally {
      detach()
      await phone.close()
      await kiosk.close()
    }
  })

  /**
   * A kiosk identity at a ble:// endpoint with `token` and a phone identity with none, in a fresh
   * folder, and `carrier listen --count 1` started as the kiosk (both children take their HCI
   * transport from CARRIER_BLE_HCI; the test deletes it when done).
   */
  function kioskListening(prefix: string, token: string) {
    const dir = tempDir(prefix)
    const endpoint = makeBleEndpoint({ service: CARRIER_PROFILE.service, token })
    const kioskId = createPeerDid({ service: { uri: endpoint } })
    writeFileSync(join(dir, 'kiosk.json'), JSON.stringify(kioskId))
    writeFileSync(join(dir, 'phone.json'), JSON.stringify(createPeerDid()))
    process.env.CARRIER_BLE_HCI = bt.hci
    const listen = startCarrier(
      '--json',
      'listen',
      '--identity',
      join(dir, 'kiosk.json'),
      '--out',
      join(dir, 'in'),
      '--count',
      '1',
    )
    return { dir, endpoint, kioskId, listen }
  }

  it('carrier listen --via ble:// and carrier send from an identity with no endpoint: a message over Bluetooth', {
    timeout: 90_000,
  }, async () => {
    const { dir, endpoint, kioskId, listen } = kioskListening('carrier-ble-agent-', 'clik')
    try {
      const r = await runCarrier(
        '--json',
        'send',
        '--identity',
        join(dir, 'phone.json'),
        '--to',
        kioskId.did,
        '--text',
        'hello kiosk',
      )
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ command: 'send', uri: endpoint, confirmed: true })
      const heard = JSON.parse(await listen.line(/"command":"listen"/)) as { id: string; authenticated: boolean }
      expect(heard.authenticated).toBe(true)
      expect(await listen.exited).toBe(0)
      const saved = JSON.parse(readFileSync(join(dir, 'in', `${heard.id}.json`), 'utf8')) as { body: unknown }
      expect(saved.body).toEqual({ content: 'hello kiosk' })
    } finally {
      listen.kill()
      delete process.env.CARRIER_BLE_HCI
    }
  })

  it('carrier send-file over Bluetooth to carrier listen: an identity with no endpoint sends 200 KB in 64 KiB chunks, byte-exact in the folder', {
    timeout: 120_000,
  }, async () => {
    const { dir, kioskId, listen } = kioskListening('carrier-ble-send-file-', 'clif')
    const data = seededBytes(200_000, 63)
    writeFileSync(join(dir, 'photo.jpg'), data)
    try {
      await listen.line(/"event":"ready"/)
      const r = await runCarrier(
        '--json',
        'send-file',
        join(dir, 'photo.jpg'),
        '--identity',
        join(dir, 'phone.json'),
        '--to',
        kioskId.did,
        '--part-size',
        '65536',
      )
      expect(r.code, r.stderr).toBe(0)
      expect(await listen.exited, listen.stderr()).toBe(0)
      expect(readFileSync(join(dir, 'in', 'photo.jpg')).equals(Buffer.from(data))).toBe(true)
    } finally {
      listen.kill()
      delete process.env.CARRIER_BLE_HCI
    }
  })

  it('without return_route, an answer to a DID with no endpoint fails with ERR_NO_ENDPOINT', async () => {
    const kioskId = createPeerDid({ service: { uri: makeBleEndpoint({ service: CARRIER_PROFILE.service, token: 'kiosk2' }) } })
    const phoneId = createPeerDid()
    const kiosk = createAgent({
      identity: kioskId,
      resolver: didPeerResolver,
      transports: [await bleEndpointTransport({ hci: bt.hci, listen: { token: 'kiosk2' } })],
    })
    const phone = createAgent({
      identity: phoneId,
      resolver: didPeerResolver,
      transports: [await bleEndpointTransport({ hci: bt.hci })],
    })
    try {
      const atKiosk = kiosk.messages()[Symbol.asyncIterator]()
      await phone.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'hi' } }), {
        to: kioskId.did,
      })
      expect((await atKiosk.next()).value?.message.body).toEqual({ content: 'hi' })
      await expect(
        kiosk.send(createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: 'hello?' } }), {
          to: phoneId.did,
        }),
      ).rejects.toMatchObject({ code: 'ERR_NO_ENDPOINT' })
    } finally {
      await phone.close()
      await kiosk.close()
    }
  }, 60_000)
})
