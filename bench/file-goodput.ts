import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FolderReceiver, type SendFileOptions, sendFile } from '../adapters/fs/index.js'
import { type Agent, createAgent, createPeerDid, didPeerResolver, type EndpointTransport } from '../src/index.js'
import { seededBytes } from '../src/testing/prng.js'
import { emit, median } from './lib.js'

/**
 * A file's goodput through the public API (`sendFile(agent, path, { to })`, received by a
 * FolderReceiver, timed from the call, hashing pass included, until the sender hears "complete")
 * against one large message with the same bytes attached (`Agent.sendFile(bytes)`, one authcrypt
 * envelope, timed until the receiver has saved the attachment), on the same link in the same run,
 * alternated so a drifting machine skews both alike. One line per file variant (chunk size), each
 * against the same messages. What crosses differs, and params say so: the file is its ciphertext
 * as binary wire transfers (1 + 16/segment bytes of the plaintext, not compressed: sealed bytes do
 * not deflate), the message is the envelope's base64 deflated by the wire's default to ~3/4 of a
 * raw base64 (params also give the message with `compress: false`). The sender is a phone with no
 * endpoint; the receiver answers over the link (return_route). Only the public API: it stays valid
 * whatever moves the file underneath.
 */
export async function fileVsMessage(o: {
  link: string
  /** The receiver's transport (it listens at `uri`), and the sender's. */
  receiver: EndpointTransport
  uri: string
  sender: EndpointTransport
  bytes: number
  reps: number
  /** One line each: `name` (the figure's) and sendFile's chunking options (its defaults where not given). */
  files: ({ name: string } & Pick<SendFileOptions, 'partBytes' | 'segmentBytes' | 'window' | 'wireWindow'>)[]
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'carrier-bench-file-'))
  const inbox = join(dir, 'in')
  mkdirSync(inbox)
  const kiosk = createAgent({
    identity: createPeerDid({ service: { uri: o.uri } }),
    resolver: didPeerResolver,
    transports: [o.receiver],
  })
  const phone: Agent = createAgent({ identity: createPeerDid(), resolver: didPeerResolver, transports: [o.sender] })
  let arrived: (() => void) | undefined
  const receiver = new FolderReceiver(
    { dir: inbox },
    (status, to) => kiosk.send(status, { to }),
    () => {},
  )
  // shares and blob chunks are the receiver's (attach: chunks are bytes, not messages); the rest is the message side's
  await receiver.init()
  const detach = receiver.attach(kiosk)
  const loop = (async () => {
    for await (const { message } of kiosk.messages()) {
      await receiver.saveAttachments(message)
      arrived?.()
    }
  })()
  const files: number[][] = o.files.map(() => [])
  const messages: number[] = []
  const uncompressed: number[] = []
  try {
    // one unrecorded round first (JIT, connection set-up), then both alternated
    for (let rep = -1; rep < o.reps; rep++) {
      const message = async (compress: false | undefined) => {
        const got = new Promise<void>((r) => (arrived = r))
        const t0 = performance.now()
        const data = seededBytes(o.bytes, 1000 + rep)
        const sent = await phone.sendFile(data, { to: kiosk.did, filename: `message-${rep}.bin`, compress })
        await got
        if (sent.report.confirmed !== true) throw new Error('the message was not confirmed')
        return performance.now() - t0
      }
      const msMessage = await message(undefined)
      // the same without the wire's deflate, which a file's chunks do not use: what the air carries differs
      const msPlain = await message(false)

      // a new file each round: the same one again would resume as already complete
      const msFiles: number[] = []
      for (const [v, f] of o.files.entries()) {
        const path = join(dir, `file-${rep}-${v}.bin`)
        writeFileSync(path, seededBytes(o.bytes, 2000 + rep * 16 + v))
        const t1 = performance.now()
        // resolves once the receiver reported it complete
        const { name: _, ...chunking } = f
        await sendFile(phone, path, { to: kiosk.did, ...chunking })
        msFiles.push(performance.now() - t1)
      }
      if (rep < 0) continue
      messages.push(msMessage)
      uncompressed.push(msPlain)
      for (const [v, ms] of msFiles.entries()) files[v]?.push(ms)
    }
  } finally {
    detach()
    await phone.close()
    await kiosk.close()
    await loop.catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  const kibps = (ms: number) => o.bytes / 1024 / (ms / 1000)
  for (const [v, f] of o.files.entries()) {
    const ms = files[v] as number[]
    emit({
      name: f.name,
      value: kibps(median(ms)),
      unit: 'KiB/s',
      baseline: {
        name: `one authcrypt message with the same ${o.bytes / 1024} KiB attached (Agent.sendFile), same ${o.link}, same run`,
        value: kibps(median(messages)),
      },
      // per pair: the machine's load moves both alike
      ratio: median(ms.map((t, i) => (messages[i] as number) / t)),
      params: {
        bytes: o.bytes,
        reps: o.reps,
        partBytes: f.partBytes ?? 'sendFile default (512 KiB)',
        segmentBytes: f.segmentBytes ?? 'sendFile default (64 KiB)',
        window: f.window ?? 'sendFile default',
        wireWindow: f.wireWindow ?? 'sendFile default',
        file: 'ciphertext as binary wire transfers (chunks of whole sealed segments), not compressed; share and statuses are authcrypt messages',
        message: "one authcrypt envelope, its attachment's base64 deflated by the wire's default",
        msFile: ms.map(Math.round),
        msMessage: messages.map(Math.round),
        // the message with compress: false (the wire deflates a message's base64 to ~3/4 by default)
        msMessageUncompressed: uncompressed.map(Math.round),
        uncompressedKiBps: Math.round(kibps(median(uncompressed))),
        // fastest of each: what each costs when the machine's other work stays out of the way
        ratioOfFastest: Math.round((Math.min(...messages) / Math.min(...ms)) * 1000) / 1000,
        ratioToUncompressed: Math.round(median(ms.map((t, i) => (uncompressed[i] as number) / t)) * 1000) / 1000,
      },
    })
  }
}
