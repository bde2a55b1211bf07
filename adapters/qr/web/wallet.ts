// The wallet page: an identity kept in IndexedDB (a did:peer:2 routed through our mediator), its
// messages picked up live over the mediator's WebSocket (polling when there is none or it fails),
// basic messages and files sent and received, an OOB invitation read from the camera or a ?_oob=
// link and answered with a trust ping, and a nearby device over Web Bluetooth.

import { createRoutedPeerDid, type MediationClient, useMediator } from '../../../src/agent/mediation.js'
import { type Agent, type AgentMessage, createAgent, type EndpointTransport, receivedFiles } from '../../../src/agent.js'
import { didPeerResolver, type PeerIdentity } from '../../../src/did/peer.js'
import { createMessage } from '../../../src/didcomm/message.js'
import { parseInvitationUrl } from '../../../src/didcomm/oob.js'
import type { Message } from '../../../src/didcomm/pack.js'
import { LinkInbox } from '../../../src/link-endpoint.js'
import { TRUST_PING } from '../../../src/protocols/trust-ping.js'
import { CarrierError, type Transport } from '../../../src/transport.js'
import { createTransport } from '../../../src/wire/create-transport.js'
import { WebBluetoothLink } from '../../ble/web-bluetooth.js'
import { webClientTransport } from '../../http/client.js'
import type { DecodeReply, DecodeRequest } from './decode-worker.js'

const BASIC = 'https://didcomm.org/basicmessage/2.0/message'

export interface WalletApi {
  did?: string
  mediator?: string
  /** 'live' (WebSocket) or 'polling' once mediation is set up. */
  pickup?: 'live' | 'polling'
  readonly received: { from?: string; text?: string; files: { filename?: string; bytes: number }[] }[]
  /** DIDs of inviters that answered our trust ping. */
  readonly connected: string[]
  readonly errors: string[]
}

declare global {
  interface Window {
    carrierWallet: WalletApi
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const api: WalletApi = { received: [], connected: [], errors: [] }
window.carrierWallet = api
const status = (text: string) => {
  $('status').textContent = text
}
const fail = (what: string) => (err: Error) => {
  api.errors.push(`${what}: ${err.message}`)
  status(`${what}: ${err.message}`)
}

// --- the identity, in IndexedDB -----------------------------------------------------------------
interface Saved {
  identity: PeerIdentity
  mediator: string
}

function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('didcomm-carrier-wallet', 1)
    open.onupgradeneeded = () => open.result.createObjectStore('wallet')
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
}

async function stored(op: (s: IDBObjectStore) => IDBRequest, mode: IDBTransactionMode = 'readonly'): Promise<unknown> {
  const d = await db()
  return new Promise((resolve, reject) => {
    const req = op(d.transaction('wallet', mode).objectStore('wallet'))
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/** Ours if kept; else a new one routed through the mediator in ?mediator= (created on first visit). */
async function identity(): Promise<Saved> {
  const wanted = new URL(location.href).searchParams.get('mediator') ?? undefined
  const saved = (await stored((s) => s.get('identity'))) as Saved | undefined
  if (saved && (!wanted || wanted === saved.mediator)) return saved
  if (!wanted)
    throw new CarrierError('ERR_NO_MEDIATOR', 'open this page with ?mediator=<the mediator DID> (carrier web prints it)')
  const fresh: Saved = { identity: createRoutedPeerDid(wanted), mediator: wanted }
  await stored((s) => s.put(fresh, 'identity'), 'readwrite')
  return fresh
}

// --- a nearby device over Web Bluetooth ---------------------------------------------------------
const bleInbox = new LinkInbox()
let bleTransport: Transport | undefined
const ble: EndpointTransport = {
  schemes: ['ble:'],
  send: (_uri, envelope, o) => {
    if (!bleTransport) throw new CarrierError('ERR_LINK_DOWN', 'no nearby device: press "Nearby device" first')
    return bleTransport.send(envelope, o)
  },
  incoming: () => bleInbox.incoming(),
  close: () => bleInbox.close(),
}

// --- what arrives -------------------------------------------------------------------------------
function show(m: AgentMessage): void {
  const files = receivedFiles(m.message)
  const text = m.message.type === BASIC ? String(m.message.body?.content ?? '') : undefined
  api.received.push({ from: m.message.from, text, files: files.map((f) => ({ filename: f.filename, bytes: f.bytes.length })) })
  const li = document.createElement('li')
  const who = document.createElement('code')
  who.className = 'did'
  who.textContent = m.message.from ?? 'anonymous'
  li.append(who, document.createElement('br'))
  if (text !== undefined) li.append(text)
  else if (!files.length) li.append(m.message.type)
  for (const f of files) {
    const a = document.createElement('a')
    a.href = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.mediaType }))
    a.download = f.filename ?? 'file'
    a.textContent = ` ${a.download} (${f.bytes.length} bytes)`
    li.append(a)
  }
  if (m.message.from) {
    const reply = document.createElement('button')
    reply.type = 'button'
    reply.className = 'reply'
    reply.textContent = 'Reply'
    reply.onclick = () => {
      $<HTMLInputElement>('to').value = m.message.from as string
      $<HTMLInputElement>('text').focus()
    }
    li.append(' ', reply)
  }
  $('messages').prepend(li)
}

// --- invitations: ?_oob= or the camera ----------------------------------------------------------
async function accept(agent: Agent, url: string): Promise<void> {
  const invitation = parseInvitationUrl(url)
  const inviter = invitation.from as string
  status(`connecting to ${inviter.slice(0, 32)}…`)
  const ping: Message = { ...createMessage({ type: TRUST_PING, body: { response_requested: true } }), pthid: invitation.id }
  await agent.request(ping, { to: inviter, timeoutMs: 30_000 })
  api.connected.push(inviter)
  const li = document.createElement('li')
  li.textContent = `connected: ${inviter}`
  li.className = 'did'
  $('connections').append(li)
  $<HTMLInputElement>('to').value = inviter
  status(`connected to ${inviter.slice(0, 32)}…`)
}

/** The camera until a QR code holding an OOB invitation URL shows up (decoded by the scanner's Worker). */
async function scan(): Promise<string> {
  const video = $<HTMLVideoElement>('video')
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
  video.hidden = false
  video.srcObject = stream
  await video.play()
  const worker = new Worker(new URL('decode-worker.js', location.href))
  const canvas = document.createElement('canvas')
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D
  status('show the invitation QR code to the camera')
  try {
    return await new Promise<string>((resolve) => {
      let busy = false
      worker.onmessage = (e: MessageEvent<DecodeReply>) => {
        busy = false
        const text = e.data.bytes ? new TextDecoder().decode(e.data.bytes) : ''
        if (text.includes('_oob=')) resolve(text)
      }
      const onFrame = () => {
        if (!busy && video.videoWidth) {
          canvas.width = video.videoWidth
          canvas.height = video.videoHeight
          ctx.drawImage(video, 0, 0)
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height)
          busy = true
          worker.postMessage({ width: img.width, height: img.height, data: img.data } satisfies DecodeRequest, [img.data.buffer])
        }
        video.requestVideoFrameCallback(onFrame)
      }
      video.requestVideoFrameCallback(onFrame)
    })
  } finally {
    worker.terminate()
    for (const t of stream.getTracks()) t.stop()
    video.hidden = true
  }
}

// --- mediation ----------------------------------------------------------------------------------
async function mediate(agent: Agent, web: ReturnType<typeof webClientTransport>, mediator: string): Promise<MediationClient> {
  const client = await useMediator(agent, mediator)
  const doc = await didPeerResolver.resolve(mediator)
  const via = (doc?.service ?? [])
    .flatMap((s) => (Array.isArray(s.serviceEndpoint) ? s.serviceEndpoint : [s.serviceEndpoint]))
    .map((e) => (typeof e === 'string' ? e : e.uri))
    .find((u) => /^wss?:/.test(u))
  if (via) {
    try {
      await client.live({ via, keepOpen: web.keepOpen })
      api.pickup = 'live'
      return client
    } catch (err) {
      api.errors.push(`live pickup over ${via}: ${(err as Error).message}; polling instead`)
    }
  }
  await client.drain()
  setInterval(() => void client.drain().catch(fail('pickup')), 3000)
  api.pickup = 'polling'
  return client
}

async function start(): Promise<void> {
  const { identity: id, mediator } = await identity()
  const web = webClientTransport()
  const agent = createAgent({
    identity: id,
    resolver: didPeerResolver,
    transports: [web, ble],
    onError: (e) => fail('receive')(e as Error),
  })
  api.did = agent.did
  api.mediator = mediator
  $('did').textContent = agent.did
  $('copy').onclick = () => void navigator.clipboard?.writeText(agent.did)
  status('asking the mediator…')
  await mediate(agent, web, mediator)
  status(`ready · messages picked up ${api.pickup === 'live' ? 'live over WebSocket' : 'by polling'}`)
  void (async () => {
    for await (const m of agent.messages()) show(m)
  })()

  $<HTMLFormElement>('send').onsubmit = (e) => {
    e.preventDefault()
    const to = $<HTMLInputElement>('to').value.trim()
    const text = $<HTMLInputElement>('text').value
    const file = $<HTMLInputElement>('file').files?.[0]
    void (async () => {
      if (text) await agent.send(createMessage({ type: BASIC, body: { content: text } }), { to })
      if (file)
        await agent.sendFile(new Uint8Array(await file.arrayBuffer()), {
          to,
          filename: file.name,
          mediaType: file.type || 'application/octet-stream',
        })
      $<HTMLInputElement>('text').value = ''
      $<HTMLInputElement>('file').value = ''
      status(`sent to ${to.slice(0, 32)}…`)
    })().catch(fail('send'))
  }
  $('scan').onclick = () =>
    void scan()
      .then((url) => accept(agent, url))
      .catch(fail('invitation'))
  $('ble').onclick = () =>
    void WebBluetoothLink.request()
      .then((link) => {
        bleTransport = bleInbox.serve(createTransport(link))
        status('nearby device connected: what it sends shows here; send to its DID to reach it over Bluetooth')
      })
      .catch(fail('bluetooth'))

  const oob = new URL(location.href).searchParams.get('_oob')
  if (oob) await accept(agent, location.href).catch(fail('invitation'))
}

start().catch(fail('wallet'))
