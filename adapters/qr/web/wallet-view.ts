// What the wallet page shows: the contact list and the open conversation, drawn from the Book.
import { ANONYMOUS, type Book, type Contact, type Item, shortDid } from './wallet-book.js'

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (cls) e.className = cls
  if (text !== undefined) e.textContent = text
  return e
}

/** A DID shortened, the whole of it in the title, with a copy button. */
export function fillDid(target: HTMLElement, did: string, say: (text: string) => void): void {
  const code = el('code', undefined, shortDid(did))
  code.title = did
  target.dataset.did = did
  target.replaceChildren(code)
  if (did === ANONYMOUS) return
  const copy = el('button', 'copy', 'Copy')
  copy.type = 'button'
  copy.setAttribute('aria-label', 'Copy the DID')
  copy.onclick = () =>
    void navigator.clipboard
      ?.writeText(did)
      .then(() => say('DID copied'))
      .catch(() => say(`copy refused by the browser: ${did}`))
  target.append(copy)
}

export const nameOf = (c: Contact | undefined, did: string) => c?.name ?? (did === ANONYMOUS ? 'Anonymous' : shortDid(did))

const time = (at: number) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

function preview(i: Item | undefined): string {
  if (!i) return 'no messages yet'
  const what = i.text ?? (i.files?.length ? `File: ${i.files.map((f) => f.filename ?? 'file').join(', ')}` : (i.type ?? ''))
  return `${i.dir === 'out' ? 'You: ' : ''}${what}`
}

export function renderContacts(book: Book, open: string | undefined, onOpen: (did: string) => void): void {
  const list = $('contacts')
  list.replaceChildren(
    ...book.sorted().map((c) => {
      const li = el('li')
      const b = el('button', 'contact')
      b.type = 'button'
      b.dataset.did = c.did
      if (c.did === open) b.setAttribute('aria-current', 'true')
      const avatar = el('span', 'avatar', c.name?.slice(0, 1).toUpperCase() ?? '?')
      const text = el('span', 'text')
      const last = book.items(c.did).at(-1)
      text.append(el('strong', undefined, nameOf(c, c.did)), el('span', 'preview', preview(last)))
      b.append(avatar, text)
      if (last) b.append(el('time', undefined, time(last.at)))
      b.onclick = () => onOpen(c.did)
      li.append(b)
      return li
    }),
  )
  $('no-contacts').hidden = book.contacts.length > 0
}

const STATE_LABEL = {
  sending: 'sending…',
  sent: 'sent',
  delivered: 'delivered',
  receiving: 'receiving…',
  received: 'received, checked',
  failed: 'failed',
} as const

/** The conversation with `did`; `urls` holds this session's file links by item id. */
export function renderConversation(book: Book, did: string, urls: Map<string, string[]>, say: (t: string) => void): void {
  const c = book.contact(did)
  $('chat-name').textContent = nameOf(c, did)
  fillDid($('chat-did'), did, say)
  $('name-contact').hidden = !!c?.name || did === ANONYMOUS
  $('rename').hidden = did === ANONYMOUS
  for (const id of ['text', 'file', 'send-button']) $<HTMLInputElement>(id).disabled = did === ANONYMOUS
  const list = $('messages')
  list.replaceChildren(
    ...book.items(did).map((i) => {
      const li = el('li', i.dir)
      li.dataset.id = i.id
      if (i.text !== undefined) li.append(el('p', 'body', i.text))
      else if (!i.files?.length) li.append(el('p', 'body system', i.type ?? 'message'))
      const links = urls.get(i.id)
      for (const [n, f] of (i.files ?? []).entries()) {
        const name = f.filename ?? 'file'
        const url = links?.[n]
        const a = url ? el('a', 'file') : el('span', 'file')
        if (url && a instanceof HTMLAnchorElement) {
          a.href = url
          a.download = name
        }
        a.append(el('span', 'badge', 'file'), ` ${name} · ${f.bytes.toLocaleString()} bytes`)
        li.append(a)
      }
      // a file that could not be fetched or verified says why (and offers no link)
      if (i.dir === 'in' && i.state === 'failed' && i.error) li.append(el('p', 'body error', i.error))
      const meta = el('span', 'meta', time(i.at))
      if (i.state) {
        const s = el('span', `state ${i.state}`, STATE_LABEL[i.state])
        if (i.error) s.title = i.error
        meta.append(' · ', s)
      }
      li.append(meta)
      return li
    }),
  )
  list.lastElementChild?.scrollIntoView({ block: 'end' })
}
