/**
 * npx tsx examples/ble-chat/chat.ts --peripheral|--central [--token T] [--hci SPEC] [--name NAME]
 *
 * Two machines chat over Bluetooth LE, no network: each line typed is a DIDComm basic message,
 * authcrypted to the other side's did:peer:2. The first message each way is a signed hello that
 * carries the sender's DID, so nothing has to be exchanged beforehand but the token.
 */
import { createInterface } from 'node:readline'
import { BleCentralLink, BlePeripheralLink, type GattLink } from '../../adapters/ble/index.js'
import {
  createMessage,
  createPeerDid,
  createTransport,
  didPeerResolver,
  packEncrypted,
  packSigned,
  staticSecrets,
  unpack,
} from '../../src/index.js'

export interface ChatOptions {
  role: 'peripheral' | 'central'
  token: string
  hci?: string
  name: string
  /** Lines to say; default: read them from stdin. */
  lines?: AsyncIterable<string> | Iterable<string>
  print?: (line: string) => void
  /** Stop after hearing this many lines from the other side. */
  hear?: number
}

export async function chat(o: ChatOptions): Promise<string[]> {
  const print = o.print ?? console.log
  const me = createPeerDid()
  const secrets = staticSecrets(me.secrets)
  const link: GattLink =
    o.role === 'peripheral'
      ? await BlePeripheralLink.start({ hci: o.hci, token: o.token, name: o.name })
      : await BleCentralLink.connect({ hci: o.hci, token: o.token })
  if (o.role === 'peripheral') {
    print(`${o.name}: advertising with token ${o.token}, waiting for the other side…`)
    await link.waitUp(10 * 60_000)
  }
  print(`${o.name}: connected (ATT MTU ${link.negotiatedMtu})`)
  const transport = createTransport(link)
  const hello = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: `${o.name} joined` } })
  await transport.send(await packSigned({ ...hello, from: me.did }, { signFrom: `${me.did}#key-2`, secrets }))

  let peer: string | undefined
  const peerKnown = new Promise<void>((resolve) => {
    const heard: string[] = []
    void (async () => {
      for await (const r of transport.receive()) {
        const { message } = await unpack(r.data, { resolver: didPeerResolver, secrets })
        peer ??= message.from
        if (!peer) continue
        resolve()
        const text = String((message.body as { content?: string })?.content)
        print(`< ${text}`)
        if (!text.endsWith(' joined')) heard.push(text)
        if (o.hear !== undefined && heard.length >= o.hear) break
      }
      done(heard)
    })()
  })
  let done: (heard: string[]) => void = () => {}
  const finished = new Promise<string[]>((r) => (done = r))
  await peerKnown
  const lines = o.lines ?? createInterface({ input: process.stdin })
  for await (const line of lines) {
    const msg = createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: line } })
    const { packed } = await packEncrypted(
      { ...msg, from: me.did, to: [peer as string] },
      {
        to: peer as string,
        from: me.did,
        resolver: didPeerResolver,
        secrets,
      },
    )
    await transport.send(packed)
    print(`> ${line}`)
  }
  const heard = await finished
  await new Promise((r) => setTimeout(r, 200)) // the last receipt on its way
  await transport.close()
  return heard
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const opt = (name: string) => {
    const i = args.indexOf(name)
    return i === -1 ? undefined : args[i + 1]
  }
  const role = args.includes('--central') ? 'central' : 'peripheral'
  await chat({ role, token: opt('--token') ?? 'chat', hci: opt('--hci'), name: opt('--name') ?? role })
}
