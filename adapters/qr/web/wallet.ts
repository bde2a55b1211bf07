// The wallet page: an identity kept in IndexedDB (a did:peer:2 routed through our mediator), its
// messages picked up live over the mediator's WebSocket (polling when there is none or it fails),
// contacts and conversations kept in localStorage (wallet-book.ts), basic messages and files sent
// and received with their delivery state, files that waited at the mediator fetched and verified
// (wallet-blob.ts), an OOB invitation shown as a QR code, read from the
// camera or a ?_oob= link and answered with a trust ping, and a nearby device over Web Bluetooth.

import { createRoutedPeerDid, type MediationClient, useMediator } from '../../../src/agent/mediation.js'
import { type Agent, type AgentMessage, createAgent, type EndpointTransport, receivedFiles } from '../../../src/agent.js'
import { didPeerResolver, type PeerIdentity } from '../../../src/did/peer.js'
import { createMessage } from '../../../src/didcomm/message.js'
import { createInvitation, invitationUrl, parseInvitationUrl } from '../../../src/didcomm/oob.js'
import type { Message } from '../../../src/didcomm/pack.js'
import { parseShare } from '../../../src/files/share.js'
import { LinkInbox } from '../../../src/link-endpoint.js'
import { TRUST_PING, trustPingResponse } from '../../../src/protocols/trust-ping.js'
import { CarrierError, type Transport } from '../../../src/transport.js'
import { createTransport } from '../../../src/wire/create-transport.js'
import { WebBluetoothLink } from '../../ble/web-bluetooth.js'
import { blobAccess } from '../../http/blob-client.js'
import { webClientTransport } from '../../http/client.js'
import { drawModules } from '../canvas.js'
import { textToModules } from '../capacity.js'
import { startCameraLoop } from './camera-loop.js'
import { fetchShared, final, isWaitingShare } from './wallet-blob.js'
import { ANONYMOUS, Book, type Contact, type Item, shortDid } from './wallet-book.js'
import { $, fillDid, nameOf, renderContacts, renderConversation } from './wallet-view.js'

const BASIC = 'https://didcomm.org/basicmessage/2.0/message'

export interface WalletApi {
  did?: string
  mediator?: string
  /** 'live' (WebSocket) or 'polling' once mediation is set up. */
  pickup?: 'live' | 'polling'
  readonly received: { from?: string; text?: string; files: { filename?: string; bytes: number }[] }[]
  /** Files that waited at the mediator: fetched (with the plaintext's SHA-256) or failed (with why). */
  readonly fetched: { filename: string; bytes: number; sha256?: string; error?: string }[]
  /** DIDs of inviters that answered our trust ping. */
  readonly connected: string[]
  readonly errors: string[]
  /** The contacts and the open conversation's DID (once started). */
  contacts?: readonly Contact[]
  open?: string
  /** The items of a conversation (once started). */
  items?: (did: string) => readonly Item[]
  /** The invitation link shown as a QR code (once started). */
  invitation?: string
}

declare global {
  interface Window {
    carrierWallet: WalletApi
  }
}

const api: WalletApi = { received: [], fetched: [], connected: [], errors: [] }
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

/** A share whose file is not fetched yet (it holds the key: kept beside the identity, dropped once done). */
interface PendingShare {
  message: Message
  did: string
  item: string
}
const SHARES = IDBKeyRange.bound('share:', 'share:\uffff')
const keepShare = (p: PendingShare) => stored((s) => s.put(p, `share:${p.message.id}`), 'readwrite')
const dropShare = (id: string) => stored((s) => s.delete(`share:${id}`), 'readwrite')

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
    if (!bleTransport) throw new CarrierError('ERR_LINK_DOWN', 'no nearby device: press "Nearby" first')
    return bleTransport.send(envelope, o)
  },
  incoming: () => bleInbox.incoming(),
  close: () => bleInbox.close(),
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

// --- the page -----------------------------------------------------------------------------------
class Wallet {
  readonly book: Book
  /** This session's object URLs of files, by item id (files are not kept across visits). */
  private readonly urls = new Map<string, string[]>()
  private open?: string
  private scanning = false
  /** Shares whose file this visit is fetching, by message id. */
  private readonly fetching = new Set<string>()

  constructor(
    private readonly agent: Agent,
    private readonly mediator: string,
  ) {
    this.book = new Book(agent.did)
    this.book.onChange = (did) => this.render(did)
    api.contacts = this.book.contacts
    api.items = (did) => this.book.items(did)
  }

  render(changed?: string): void {
    renderContacts(this.book, this.open, (did) => this.show(did))
    if (this.open && (changed === undefined || changed === this.open)) renderConversation(this.book, this.open, this.urls, status)
  }

  show(did: string | undefined): void {
    this.open = did
    api.open = did
    document.body.dataset.view = did ? 'chat' : 'home'
    $('conversation').hidden = !did
    $('no-chat').hidden = !!did
    this.render()
    if (did && !this.book.contact(did)?.name && did !== ANONYMOUS) $('contact-rename').focus()
  }

  /** What arrived, in its sender's conversation. */
  received(m: AgentMessage): void {
    if (isWaitingShare(m.message)) {
      void this.waiting(m.message)
      return
    }
    const files = receivedFiles(m.message)
    const text = m.message.type === BASIC ? String(m.message.body?.content ?? '') : undefined
    api.received.push({ from: m.message.from, text, files: files.map((f) => ({ filename: f.filename, bytes: f.bytes.length })) })
    const did = m.message.from ?? ANONYMOUS
    const item = this.book.add(did, {
      dir: 'in',
      ...(text !== undefined ? { text } : files.length ? {} : { type: m.message.type }),
      ...(files.length
        ? { files: files.map((f) => ({ filename: f.filename, bytes: f.bytes.length, mediaType: f.mediaType })) }
        : {}),
    })
    this.keepUrls(
      item,
      files.map((f) => new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.mediaType })),
    )
    const c = this.book.contact(did)
    if (this.open !== did) status(`new message from ${nameOf(c, did)}`)
  }

  /** A file waiting at the mediator: an item at once ("receiving…"), its link once fetched and verified. */
  private async waiting(message: Message): Promise<void> {
    // the same share again (a sender's retry, a pickup not acknowledged before the page closed)
    if (this.fetching.has(message.id)) return
    this.fetching.add(message.id)
    const did = message.from ?? ANONYMOUS
    const a = message.attachments?.[0]
    const meta = message.body?.items as { metadata?: { size?: number } }[]
    const item = this.book.add(did, {
      dir: 'in',
      files: [{ filename: a?.filename, bytes: Number(meta?.[0]?.metadata?.size ?? 0), mediaType: a?.media_type }],
      state: 'receiving',
    })
    if (this.open !== did) status(`a file from ${nameOf(this.book.contact(did), did)}: fetching it from the mediator`)
    const pending = { message, did, item: item.id }
    await keepShare(pending).catch(fail('keeping the share'))
    await this.fetchWaiting(pending)
  }

  /** Fetches a pending share's file into its item (also for shares a closed page left unfinished). */
  async fetchWaiting(p: PendingShare): Promise<void> {
    this.fetching.add(p.message.id)
    const item = this.book.items(p.did).find((i) => i.id === p.item)
    const set = (change: Partial<Item>) => item && this.book.update(p.did, item, change)
    const filename = String(p.message.attachments?.[0]?.filename ?? 'file')
    try {
      // the token is asked of our own mediator; the bytes come from the URL its grant names
      const hash = parseShare(p.message).cipherSha256
      const got = await fetchShared(p.message, blobAccess(this.agent, this.mediator, { op: 'get', hash }))
      api.fetched.push({ filename: got.share.filename, bytes: got.blob.size, sha256: got.sha256 })
      set({ state: 'received' })
      if (item) this.keepUrls(item, [got.blob])
      await dropShare(p.message.id)
    } catch (err) {
      const e = err as Error
      api.fetched.push({ filename, bytes: 0, error: `${(e as { code?: string }).code ?? e.name}: ${e.message}` })
      if (final(err)) {
        set({ state: 'failed', error: e.message })
        await dropShare(p.message.id).catch(() => {})
      } else set({ state: 'failed', error: `${e.message} (tried again at the next visit)` })
      fail(`file ${filename}`)(e)
    }
  }

  private keepUrls(item: Item, blobs: Blob[]): void {
    if (blobs.length)
      this.urls.set(
        item.id,
        blobs.map((b) => URL.createObjectURL(b)),
      )
    if (this.open) this.render(this.open)
  }

  /** Sends the composer's text and file to the open conversation, each with its delivery state. */
  async sendComposer(): Promise<void> {
    const to = this.open
    if (!to || to === ANONYMOUS) return
    const text = $<HTMLInputElement>('text').value
    const file = $<HTMLInputElement>('file').files?.[0]
    $<HTMLInputElement>('text').value = ''
    $<HTMLInputElement>('file').value = ''
    $('file-name').textContent = ''
    const jobs: Promise<void>[] = []
    if (text)
      jobs.push(
        this.sendItem(to, { text }, () => this.agent.send(createMessage({ type: BASIC, body: { content: text } }), { to })),
      )
    if (file) {
      const bytes = new Uint8Array(await file.arrayBuffer())
      const mediaType = file.type || 'application/octet-stream'
      const what = { files: [{ filename: file.name, bytes: bytes.length, mediaType }] }
      jobs.push(this.sendItem(to, what, () => this.agent.sendFile(bytes, { to, filename: file.name, mediaType }), [file]))
    }
    await Promise.all(jobs)
  }

  private async sendItem(
    to: string,
    what: Pick<Item, 'text' | 'files'>,
    send: () => ReturnType<Agent['send']>,
    blobs: Blob[] = [],
  ): Promise<void> {
    const item = this.book.add(to, { dir: 'out', ...what, state: 'sending' })
    this.keepUrls(item, blobs)
    try {
      const r = await send()
      // a mediator taking it is "sent"; "delivered" only when the peer's own link confirmed it
      const delivered = r.report.confirmed && r.packed.forwardedThrough.length === 0
      this.book.update(to, item, { state: delivered ? 'delivered' : 'sent' })
      status(`sent to ${nameOf(this.book.contact(to), to)}`)
    } catch (err) {
      this.book.update(to, item, { state: 'failed', error: (err as Error).message })
      fail('send')(err as Error)
    }
  }

  /** Our invitation (one per wallet, its id kept so a QR code shown earlier stays good), with our name as label. */
  invitation(): { url: string; id: string } {
    const id = this.book.me.invitationId ?? crypto.randomUUID()
    if (!this.book.me.invitationId) this.book.setMe({ invitationId: id })
    const inv: Message = { ...createInvitation({ from: this.agent.did, goalCode: 'connect' }), id }
    const label = this.book.me.name
    if (label) inv.body = { ...inv.body, label }
    return { url: invitationUrl(inv, `${location.origin}${location.pathname}`), id }
  }

  drawInvitation(): void {
    const { url } = this.invitation()
    api.invitation = url
    const qr = textToModules(url, { ecc: 'L' })
    const canvas = $<HTMLCanvasElement>('invite-qr')
    canvas.width = canvas.height = (qr.size + 8) * 4
    drawModules(canvas.getContext('2d') as CanvasRenderingContext2D, qr)
  }

  /** Someone answering our invitation: their ping answered, a contact for them (to be named). */
  async answerInvitationPing(m: AgentMessage): Promise<boolean> {
    const from = m.message.from
    if (m.message.type !== TRUST_PING || !from || m.message.pthid !== this.book.me.invitationId) return false
    const pong = trustPingResponse(m.message)
    if (pong) await this.agent.send(pong, { to: from }).catch(fail('answering an invitation'))
    this.book.ensure(from)
    toggle($('show-invite'), $('invite'), false)
    status(`${shortDid(from)} accepted your invitation: name it in its conversation`)
    return true
  }

  /** An invitation from the camera or a link: a contact named by its label or goal, connected with a trust ping. */
  async accept(url: string): Promise<void> {
    const invitation = parseInvitationUrl(url)
    const inviter = invitation.from as string
    const body = (invitation.body ?? {}) as { label?: unknown; goal?: unknown }
    const name = [body.label, body.goal].find((v): v is string => typeof v === 'string' && v.trim() !== '')
    status(`connecting to ${name ?? shortDid(inviter)}…`)
    const ping: Message = { ...createMessage({ type: TRUST_PING, body: { response_requested: true } }), pthid: invitation.id }
    await this.agent.request(ping, { to: inviter, timeoutMs: 30_000 })
    api.connected.push(inviter)
    this.book.ensure(inviter, name?.trim().slice(0, 40))
    this.show(inviter)
    status(`connected to ${nameOf(this.book.contact(inviter), inviter)}`)
  }

  /** The camera until a QR code holding an invitation link shows up, or Cancel (ERR_CANCELLED). */
  async scan(): Promise<string> {
    if (this.scanning) throw new CarrierError('ERR_CANCELLED', 'already scanning')
    this.scanning = true
    $('camera').hidden = false
    let found: (url: string) => void = () => {}
    const loop = startCameraLoop($<HTMLVideoElement>('video'), {
      onReply: (reply) => {
        const text = reply.bytes ? new TextDecoder().decode(reply.bytes) : ''
        if (text.includes('_oob=')) found(text)
        else if (text) status('that QR code is not an invitation')
      },
    })
    try {
      return await new Promise<string>((resolve, reject) => {
        found = resolve
        $('stop-scan').onclick = () => reject(new CarrierError('ERR_CANCELLED', 'scan cancelled'))
        loop.catch(reject)
      })
    } finally {
      // the camera stops once it has started, even when Cancel came first
      void loop.then(
        (l) => l.stop(),
        () => undefined,
      )
      this.scanning = false
      $('camera').hidden = true
    }
  }
}

function toggle(button: HTMLElement, panel: HTMLElement, open = panel.hidden): void {
  panel.hidden = !open
  button.setAttribute('aria-expanded', String(open))
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
  const w = new Wallet(agent, mediator)
  agent.addHandler((m) => w.answerInvitationPing(m))
  api.did = agent.did
  api.mediator = mediator
  fillDid($('did'), agent.did, status)
  const myName = $<HTMLInputElement>('my-name')
  myName.value = w.book.me.name ?? ''
  myName.onchange = () => {
    w.book.setMe({ name: myName.value.trim() || undefined })
    if (!$('invite').hidden) w.drawInvitation()
  }
  w.show(undefined)

  $('show-invite').onclick = () => {
    if ($('invite').hidden) w.drawInvitation()
    toggle($('show-invite'), $('invite'))
  }
  $('copy-invite').onclick = () =>
    void navigator.clipboard
      ?.writeText(w.invitation().url)
      .then(() => status('invitation link copied'))
      .catch(() => status('copy refused by the browser'))
  $('back').onclick = () => w.show(undefined)
  $('rename').onclick = () => {
    $('name-contact').hidden = false
    $<HTMLInputElement>('contact-rename').value = w.book.contact(api.open ?? '')?.name ?? ''
    $('contact-rename').focus()
  }
  $<HTMLFormElement>('name-contact').onsubmit = (e) => {
    e.preventDefault()
    if (api.open) w.book.rename(api.open, $<HTMLInputElement>('contact-rename').value)
    $<HTMLInputElement>('contact-rename').value = ''
    $('name-contact').hidden = !!w.book.contact(api.open ?? '')?.name
  }
  $<HTMLFormElement>('add-contact').onsubmit = (e) => {
    e.preventDefault()
    const did = $<HTMLInputElement>('contact-did').value.trim()
    if (!/^did:[a-z0-9]+:\S+$/.test(did)) {
      status('a DID starts with did:<method>:')
      return
    }
    w.book.ensure(did)
    const name = $<HTMLInputElement>('contact-name').value
    if (name.trim()) w.book.rename(did, name)
    $<HTMLFormElement>('add-contact').reset()
    w.show(did)
  }
  $<HTMLInputElement>('file').onchange = () => {
    const f = $<HTMLInputElement>('file').files?.[0]
    $('file-name').textContent = f ? `File to send: ${f.name} (${f.size.toLocaleString()} bytes)` : ''
  }
  $<HTMLFormElement>('send').onsubmit = (e) => {
    e.preventDefault()
    void w.sendComposer().catch(fail('send'))
  }
  $('scan').onclick = () =>
    void w
      .scan()
      .then((url) => w.accept(url))
      .catch((err: Error) => (err instanceof CarrierError && err.code === 'ERR_CANCELLED' ? status('') : fail('invitation')(err)))
  $('ble').onclick = () =>
    void WebBluetoothLink.request()
      .then((link) => {
        bleTransport = bleInbox.serve(createTransport(link))
        status('nearby device connected: what it sends shows here; messages to a ble:// DID go over Bluetooth')
      })
      .catch(fail('bluetooth'))

  status('asking the mediator…')
  await mediate(agent, web, mediator)
  status(`ready · messages picked up ${api.pickup === 'live' ? 'live' : 'every 3 s'}`)
  // files a closed page left unfetched (claimed before any message is read: a copy of one is skipped)
  for (const p of ((await stored((s) => s.getAll(SHARES))) ?? []) as PendingShare[]) void w.fetchWaiting(p)
  void (async () => {
    for await (const m of agent.messages()) w.received(m)
  })()

  const oob = new URL(location.href).searchParams.get('_oob')
  if (oob) await w.accept(location.href).catch(fail('invitation'))
}

start().catch(fail('wallet'))
