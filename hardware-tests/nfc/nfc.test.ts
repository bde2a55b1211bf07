import { spawn } from 'node:child_process'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeMqttEndpoint, mqttEndpointTransport, newInboxKey, startEmbeddedBroker } from '../../adapters/mqtt/index.js'
import {
  CardApplet,
  CardDispatcher,
  encodeCommand,
  nfcEndpointTransport,
  PcscReader,
  parseResponse,
  readType4Ndef,
  recordUri,
  SW,
  selectCarrierCommand,
  Type4Tag,
  uriRecord,
  VpcdCard,
  writeType4Ndef,
} from '../../adapters/nfc/index.js'
import { createAgent } from '../../src/agent.js'
import { bridgedTransport } from '../../src/bridge.js'
import { createPeerDid, didPeerResolver } from '../../src/did/peer.js'
import { createMessage } from '../../src/didcomm/message.js'
import { createTransport, type Received } from '../../src/index.js'
import { conformanceSuite } from '../../src/testing/conformance.js'
import { seededBytes } from '../../src/testing/prng.js'
import { fileThenAnswerOnTheLink } from '../../test/support/link-agents.js'
import { havePcscd, Pcscd } from '../../test/support/pcscd.js'
import { prerequisite } from '../../test/support/prerequisites.js'
import { jsonLines, runCarrier, startCarrier } from '../../test/support/run.js'
import { tempDir } from '../../test/support/temp.js'

/*
 * NFC end to end through the real PC/SC stack: pcscd + the vpcd driver (Debian), nfc-pcsc on the
 * reader side, and our virtual card (VpcdCard) running the same applet a phone runs.
 * With CARRIER_HARDWARE=1 and CARRIER_NFC_READER="<reader name>", the cases marked "hardware" run
 * against that reader and a phone running the applet in echo mode (hardware-tests/README.md); the
 * cases that take the card out of the field on cue need the virtual card and run only there.
 */
const hardwareReader = process.env.CARRIER_HARDWARE === '1' ? process.env.CARRIER_NFC_READER : undefined
const virtual = !hardwareReader
const ready = hardwareReader !== undefined || havePcscd()
// with a real reader the card cannot be lifted on cue: those cases are skipped loudly (never in CI)
const cueable =
  virtual ||
  prerequisite('a virtual card (cases that lift the card on cue)', false, 'unset CARRIER_NFC_READER to run them against vpcd')

let pcscd: Pcscd | undefined
let reader: PcscReader

/** A virtual card in vpcd's field: the applet (and an NDEF tag beside it) answering through PC/SC. */
async function tap(o: { extended?: boolean; tag?: Type4Tag } = {}) {
  const applet = new CardApplet(o.extended ? { maxCommandData: 4096, maxResponseData: 4096, mtu: 8192 } : { mtu: 4096 })
  const card = new VpcdCard(o.tag ? new CardDispatcher([applet, o.tag]) : applet, { port: pcscd?.vpcdPort })
  await card.insert()
  await reader.waitForCard(Number.POSITIVE_INFINITY) // in the field: pcscd reports it at its next presence poll
  return {
    applet,
    card,
    /** Out of the field until the reader notices (pcscd polls every 400 ms). */
    async lift() {
      const off = new Promise((r) => reader.once('card.off', r))
      card.remove()
      await off
    },
    async retap() {
      await card.insert()
      await reader.waitForCard(Number.POSITIVE_INFINITY) // in the field: pcscd reports it at its next presence poll
    },
  }
}

/** A tapped virtual card with a transport on each side; `end` closes both and lifts the card. */
async function session(o: { extended?: boolean } = {}) {
  const t = await tap(o)
  const atReader = createTransport(reader.link({ extended: o.extended, mtu: o.extended ? 8192 : 4096, pollMs: 5 }))
  const atCard = createTransport(t.applet)
  return {
    t,
    atReader,
    atCard,
    async end() {
      await atReader.close()
      await atCard.close()
      if (t.card.inField) await t.lift()
    },
  }
}

/**
 * The card a child process (a `carrier nfc` command) brings into the field, or a failure when the
 * child ends first. No clock: the child's start-up (tsx, seconds under load) is not what is tested.
 */
function cardFrom(child: Promise<unknown>, what: string): Promise<unknown> {
  return Promise.race([
    reader.waitForCard(Number.POSITIVE_INFINITY),
    child.then((r) => {
      throw new Error(`${what} ended before its card entered the field: ${JSON.stringify(r)}`)
    }),
  ])
}

const first = (t: { receive(): AsyncIterable<Received> }) =>
  (async () => {
    for await (const r of t.receive()) return r
  })()

describe.skipIf(!ready)('NFC over PC/SC', () => {
  beforeAll(async () => {
    if (virtual) pcscd = await Pcscd.start()
    // vpcd's reader is in the reader.conf of the pcscd just started: its event, not a clock (a real one: 10 s to be plugged)
    reader = await PcscReader.open({
      name: hardwareReader ?? 'Virtual PCD 00 00',
      timeoutMs: virtual ? Number.POSITIVE_INFINITY : 10_000,
    })
  }, 11 * 60_000) // pcscd is one per machine: this waits while another test file (the demo) holds it

  afterAll(async () => {
    await reader?.close()
    await pcscd?.stop()
  })

  describe.skipIf(!cueable)('virtual card (vpcd)', () => {
    for (const extended of [false, true]) {
      it(`64 KB reader → card and card → reader byte-exact, ${extended ? 'extended' : 'short'} APDUs`, async () => {
        const { t, atReader, atCard, end } = await session({ extended })
        try {
          const up = seededBytes(64 * 1024, 11)
          const down = seededBytes(64 * 1024, 12)
          const gotUp = first(atCard)
          const gotDown = first(atReader)
          const apdus0 = t.card.apdus
          await Promise.all([atReader.send(up), atCard.send(down)])
          expect(Buffer.from((await gotUp)?.data ?? []).equals(Buffer.from(up))).toBe(true)
          expect(Buffer.from((await gotDown)?.data ?? []).equals(Buffer.from(down))).toBe(true)
          const apdus = t.card.apdus - apdus0
          // short APDUs carry ≤ 255 bytes up: 64 KB needs ≥ 257 of them; extended ones far fewer
          if (extended) expect(apdus).toBeLessThan(150)
          else expect(apdus).toBeGreaterThan(257)
        } finally {
          await end()
        }
      }, 60_000)
    }

    it('agents on both sides of a tap: the phone (no endpoint) sends a 1 MB file to an nfc: agent and hears back on the same tap', async () => {
      const t = await tap({ extended: true })
      try {
        await fileThenAnswerOnTheLink({
          kiosk: {
            identity: createPeerDid({ service: { uri: 'nfc:' } }),
            transport: nfcEndpointTransport(reader.link({ extended: true, mtu: 8192, pollMs: 5 })),
            uri: 'nfc:',
          },
          phone: { identity: createPeerDid(), transport: nfcEndpointTransport(t.applet) },
          file: seededBytes(1024 * 1024, 71),
          filename: 'ticket.pdf',
        })
      } finally {
        if (t.card.inField) await t.lift()
      }
    }, 90_000)

    it('card lifted mid-transfer and tapped again: the transfer resumes and is delivered exactly once', async () => {
      const { t, atReader, atCard, end } = await session()
      try {
        const data = seededBytes(64 * 1024, 13)
        const got: Received[] = []
        void (async () => {
          for await (const r of atCard.receive()) got.push(r)
        })()
        let lifted: Promise<void> | undefined
        const sent = atReader.send(data, {
          onProgress: (p) => {
            if (!lifted && p.sentBytes > p.totalBytes / 2) lifted = t.lift().then(() => new Promise((r) => setTimeout(r, 500)))
          },
        })
        await new Promise<void>((resolve) => {
          const wait = () => (lifted ? resolve() : setTimeout(wait, 5))
          wait()
        })
        await lifted
        expect(t.card.inField).toBe(false)
        await t.retap()
        await sent
        await new Promise((r) => setTimeout(r, 300))
        expect(got).toHaveLength(1)
        expect(Buffer.from(got[0]?.data ?? []).equals(Buffer.from(data))).toBe(true)
      } finally {
        await end()
      }
    }, 60_000)

    it('malformed APDUs through PC/SC get ISO status words and leave the applet working', async () => {
      const t = await tap()
      try {
        const sw = async (capdu: Uint8Array) => parseResponse(await reader.transmit(capdu)).sw
        expect(await sw(selectCarrierCommand())).toBe(SW.OK)
        expect(await sw(Uint8Array.of(0x80, 0xc2, 0, 0, 10, 1, 2, 3))).toBe(SW.WRONG_LENGTH) // Lc 10, 3 bytes
        expect(await sw(Uint8Array.of(0x80, 0xc2, 0))).toBe(SW.WRONG_LENGTH) // truncated header
        expect(await sw(Uint8Array.of(0x40, 0xc2, 0, 0))).toBe(SW.CLA_NOT_SUPPORTED)
        expect(await sw(Uint8Array.of(0x80, 0x77, 0, 0))).toBe(SW.INS_NOT_SUPPORTED)
        expect(await sw(Uint8Array.of(0x80, 0xc0, 0, 0, 0))).toBe(SW.CONDITIONS_NOT_SATISFIED) // GET RESPONSE, nothing pending
        expect(await sw(Uint8Array.of(0x90, 0xc2, 0, 0, 2, 1, 2))).toBe(SW.OK) // chain started…
        expect(await sw(Uint8Array.of(0x80, 0xc0, 0, 0, 0))).toBe(SW.LAST_COMMAND_EXPECTED) // …and interrupted out of order
        const oversized = encodeCommand({ cla: 0x80, ins: 0xc2, p1: 0, p2: 0, data: new Uint8Array(300), extended: true })
        expect(await sw(oversized)).toBe(SW.WRONG_LENGTH) // short-only applet
        // state intact: a transfer still goes through
        const atReader = createTransport(reader.link({ mtu: 4096, pollMs: 5 }))
        const atCard = createTransport(t.applet)
        const got = first(atCard)
        const data = seededBytes(5000, 14)
        await atReader.send(data)
        expect(Buffer.from((await got)?.data ?? []).equals(Buffer.from(data))).toBe(true)
        await atReader.close()
        await atCard.close()
      } finally {
        await t.lift()
      }
    })

    it('NDEF: a Type 4 Tag invitation read back through PC/SC, then rewritten and read again', async () => {
      const invitation = `https://example.org/invite?_oob=${Buffer.from(JSON.stringify({ type: 'https://didcomm.org/out-of-band/2.0/invitation', id: 'x'.repeat(400) })).toString('base64url')}`
      const tag = new Type4Tag({ uri: invitation })
      const t = await tap({ tag })
      try {
        const tx = (c: Uint8Array) => reader.transmit(c)
        const records = await readType4Ndef(tx)
        expect(records.map(recordUri)).toEqual([invitation])
        await writeType4Ndef(tx, [uriRecord('didcomm://example/other')])
        expect((await readType4Ndef(tx)).map(recordUri)).toEqual(['didcomm://example/other'])
        // the applet next to it still answers
        expect(parseResponse(await tx(selectCarrierCommand())).sw).toBe(SW.OK)
        const readOnly = new Type4Tag({ uri: invitation, readOnly: true })
        await t.lift()
        const t2 = await tap({ tag: readOnly })
        await expect(writeType4Ndef(tx, [uriRecord('https://evil.example')])).rejects.toThrow(/read-only/)
        await t2.lift()
      } finally {
        if (t.card.inField) await t.lift()
      }
    })
  })

  it('hardware: 64 KB to the card applet in echo mode comes back byte-exact', async () => {
    const t = virtual ? await tap() : undefined
    let echo: ReturnType<typeof createTransport> | undefined
    if (t) {
      echo = createTransport(t.applet)
      const e = echo
      void (async () => {
        for await (const r of e.receive()) await e.send(r.data).catch(() => {}) // closed at the end of the test
      })()
    } else {
      console.log(`tap the phone running the applet in echo mode on ${reader.name}`)
      await reader.waitForCard(60_000)
    }
    const atReader = createTransport(reader.link({ mtu: 4096, pollMs: 5 }))
    try {
      const data = seededBytes(64 * 1024, 15)
      const back = first(atReader)
      await atReader.send(data)
      expect(Buffer.from((await back)?.data ?? []).equals(Buffer.from(data))).toBe(true)
    } finally {
      await atReader.close()
      await echo?.close()
      if (t) await t.lift()
    }
  }, 120_000)

  describe.skipIf(!cueable)('CLI against vpcd', () => {
    let dir: string
    beforeAll(async () => {
      dir = tempDir('carrier-nfc-cli-')
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('carrier nfc card --echo receives what carrier nfc reader sends, and the reader prints the answer', async () => {
      const file = join(dir, 'envelope.json')
      const envelope = JSON.stringify({ protected: 'e30', ciphertext: 'A'.repeat(20_000), tag: 'x', iv: 'y' })
      await writeFile(file, envelope)
      const port = String(pcscd?.vpcdPort)
      const cardRun = runCarrier('nfc', 'card', '--out', join(dir, 'in'), '--echo', '--count', '1', '--vpcd-port', port, '--json')
      await cardFrom(cardRun, 'carrier nfc card')
      const r = await runCarrier(
        'nfc',
        'reader',
        file,
        '--reader',
        'Virtual PCD 00 00',
        '--out',
        join(dir, 'answer.json'),
        '--json',
      )
      expect(r.stderr).not.toMatch(/carrier:/)
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toMatchObject({
        command: 'nfc reader',
        bytes: envelope.length,
        answerBytes: envelope.length,
      })
      expect(await readFile(join(dir, 'answer.json'), 'utf8')).toBe(envelope)
      const c = await cardRun
      expect(c.code).toBe(0)
      const files = await readdir(join(dir, 'in'))
      expect(files).toEqual(['message-0001.json'])
      expect(await readFile(join(dir, 'in', files[0] as string), 'utf8')).toBe(envelope)
    }, 90_000)

    it('carrier nfc reader with no reader named so fails in one clear line', async () => {
      const r = await runCarrier('nfc', 'reader', join(dir, 'missing.json'), '--reader', 'no such reader')
      expect(r.code).not.toBe(0)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    })

    // 5 min is a hang bound only: the waits inside are events (the CLI starts in seconds, longer under load)
    it(
      'carrier nfc tag presents an invitation that reads back through PC/SC as NDEF',
      async () => {
        const url =
          'https://mediator.example/invite?_oob=eyJ0eXBlIjoiaHR0cHM6Ly9kaWRjb21tLm9yZy9vdXQtb2YtYmFuZC8yLjAvaW52aXRhdGlvbiJ9'
        const tag = spawn(
          process.execPath,
          ['--import', 'tsx', 'cli/entry.ts', 'nfc', 'tag', '--invitation', url, '--vpcd-port', String(pcscd?.vpcdPort)],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        )
        let stderr = ''
        tag.stderr?.on('data', (d) => (stderr += d))
        const exited = new Promise((r) => tag.once('exit', (code) => r({ code, stderr })))
        try {
          await cardFrom(exited, 'carrier nfc tag')
          expect((await readType4Ndef((c) => reader.transmit(c))).map(recordUri)).toEqual([url])
        } finally {
          const off = reader.cardPresent ? new Promise((r) => reader.once('card.off', r)) : undefined
          tag.kill('SIGTERM')
          await off
        }
      },
      5 * 60_000,
    )

    it('carrier bridge --from nfc: a phone tapped on the reader reaches an agent behind MQTT, and the reply waits for the next tap', async () => {
      const broker = await startEmbeddedBroker()
      const bridgeEndpoint = makeMqttEndpoint(broker.url, newInboxKey())
      const bridgeId = createPeerDid({ service: { uri: bridgeEndpoint } })
      await writeFile(join(dir, 'bridge.json'), JSON.stringify(bridgeId))
      // the phone is reachable through the bridge: the bridge's inbox, the bridge's key as routing key
      const phoneId = createPeerDid({ service: { uri: bridgeEndpoint, routingKeys: [`${bridgeId.did}#key-1`] } })
      const agentEndpoint = makeMqttEndpoint(broker.url, newInboxKey())
      const agentId = createPeerDid({ service: { uri: agentEndpoint } })
      const bridge = startCarrier(
        '--json',
        'bridge',
        '--from',
        'nfc',
        '--reader',
        'Virtual PCD 00 00',
        '--identity',
        join(dir, 'bridge.json'),
      )
      const agent = createAgent({
        identity: agentId,
        resolver: didPeerResolver,
        transports: [await mqttEndpointTransport({ endpoint: agentEndpoint })],
        policy: { requireAuthenticated: true },
      })
      // the phone: our applet (what the HCE service runs) in the virtual reader's field
      const applet = new CardApplet({ mtu: 4096 })
      const card = new VpcdCard(applet, { port: pcscd?.vpcdPort })
      const phone = createAgent({
        identity: phoneId,
        resolver: didPeerResolver,
        transports: [bridgedTransport({ local: createTransport(applet), bridge: bridgeId.did, resolver: didPeerResolver })],
        policy: { requireAuthenticated: true },
      })
      const basic = (content: string) =>
        createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content } })
      try {
        await card.insert()
        await reader.waitForCard(Number.POSITIVE_INFINITY) // in the field: pcscd reports it at its next presence poll
        const atAgent = agent.messages()[Symbol.asyncIterator]()
        const atPhone = phone.messages()[Symbol.asyncIterator]()
        const sent = await phone.send(basic('ticket 42, please'), { to: agentId.did })
        expect(sent.uri).toBe(agentEndpoint)
        const got = (await atAgent.next()).value
        expect(got?.message.body).toEqual({ content: 'ticket 42, please' })
        expect(got?.message.from).toBe(phoneId.did)
        expect(got?.metadata.authenticated).toBe(true)

        // the phone leaves the field; the agent's answer waits in the bridge for the next tap
        const off = new Promise((r) => reader.once('card.off', r))
        card.remove()
        await off
        const reply = await agent.send(basic('ticket 42 is valid'), { to: phoneId.did })
        expect(reply.uri).toBe(bridgeEndpoint)
        expect(reply.packed.forwardedThrough).toEqual([`${bridgeId.did}#key-1`])
        await new Promise((r) => setTimeout(r, 1000))
        await card.insert()
        const back = (await atPhone.next()).value
        expect(back?.message.body).toEqual({ content: 'ticket 42 is valid' })
        expect(back?.message.from).toBe(agentId.did)

        await bridge.line(/"direction":"toLocal"/)
        const relayed = jsonLines<{ direction: string; next: string }>(bridge.stdout())
        expect(relayed.map((r) => [r.direction, r.next])).toEqual([
          ['toRemote', agentId.did],
          ['toLocal', phoneId.did],
        ])
      } finally {
        bridge.kill()
        await bridge.exited
        await phone.close()
        await agent.close()
        if (card.inField) {
          const off = new Promise((r) => reader.once('card.off', r))
          card.remove()
          await off
        }
        await broker.close()
      }
    }, 90_000)
  })

  if (virtual && ready) {
    conformanceSuite(
      'NFC through PC/SC (pcscd + vpcd, nfc-pcsc, short APDUs)',
      async () => {
        const t = await tap()
        const link = reader.link({ mtu: 4096, pollMs: 5 })
        return {
          a: link,
          b: t.applet,
          interrupt: async () => {
            await t.lift()
            await new Promise((r) => setTimeout(r, 200))
            await t.retap()
          },
          close: async () => {
            await link.close()
            if (t.card.inField) await t.lift()
          },
        }
      },
      { largeMessageBytes: 256 * 1024, messagesInARow: 50 },
    )
  }
})
