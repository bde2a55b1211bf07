import { expect } from 'vitest'
import type { Agent, PeerIdentity } from '../../src/index.js'
import { createAgent, createMessage, didPeerResolver, type EndpointTransport, receivedFiles } from '../../src/index.js'

/**
 * Two agents on the ends of one link: a phone with no endpoint of its own and a kiosk at `uri`.
 * The phone sends a file asking for return_route; the kiosk checks it byte for byte and answers in
 * its thread; the answer must come back over the same link, authenticated both ways. Both agents
 * are closed at the end.
 */
export async function fileThenAnswerOnTheLink(o: {
  phone: { identity: PeerIdentity; transport: EndpointTransport }
  kiosk: { identity: PeerIdentity; transport: EndpointTransport; uri: string }
  file: Uint8Array
  filename: string
}): Promise<void> {
  const agent = (p: { identity: PeerIdentity; transport: EndpointTransport }) =>
    createAgent({
      identity: p.identity,
      resolver: didPeerResolver,
      transports: [p.transport],
      policy: { requireAuthenticated: true },
    })
  const phone: Agent = agent(o.phone)
  const kiosk: Agent = agent(o.kiosk)
  try {
    const atKiosk = kiosk.messages()[Symbol.asyncIterator]()
    const atPhone = phone.messages()[Symbol.asyncIterator]()
    const sent = await phone.sendFile(o.file, { to: kiosk.did, filename: o.filename, returnRoute: 'all' })
    expect(sent.uri).toBe(o.kiosk.uri)
    expect(sent.report.confirmed).toBe(true)
    const got = (await atKiosk.next()).value
    expect(got?.message.from).toBe(phone.did)
    expect(got?.message.return_route).toBe('all')
    expect(got?.metadata.authenticated).toBe(true)
    const [saved] = receivedFiles(got?.message ?? { id: '', type: '' })
    expect(saved?.filename).toBe(o.filename)
    expect(Buffer.from(saved?.bytes ?? []).equals(Buffer.from(o.file))).toBe(true)

    // the phone has no endpoint: the answer can only go back over the link its message came by
    const content = `received ${o.file.length} bytes`
    const reply = await kiosk.send(
      createMessage({ type: 'https://didcomm.org/basicmessage/2.0/message', body: { content }, thid: got?.message.id }),
      { to: phone.did },
    )
    expect(reply.uri).toBe('return_route')
    const back = (await atPhone.next()).value
    expect(back?.message.body).toEqual({ content })
    expect(back?.message.thid).toBe(got?.message.id)
    expect(back?.message.from).toBe(kiosk.did)
    expect(back?.metadata.authenticated).toBe(true)
  } finally {
    await phone.close()
    await kiosk.close()
  }
}
