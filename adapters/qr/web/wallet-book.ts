// The wallet's address book and conversations, kept in localStorage under the wallet's DID: contacts
// (a DID and the name the user or the invitation gave it) and, per contact, what was sent and received.

/**
 * Where a sent item is: sending, sent (the first hop took it: a mediator holds it), delivered (the
 * peer's link confirmed it), failed. A received file that waited at the mediator: receiving (being
 * fetched and verified), received (verified, its link offered), failed (never a link).
 */
export type DeliveryState = 'sending' | 'sent' | 'delivered' | 'receiving' | 'received' | 'failed'

export interface Contact {
  did: string
  name?: string
  added: number
}

export interface ItemFile {
  filename?: string
  bytes: number
  mediaType?: string
}

export interface Item {
  id: string
  dir: 'in' | 'out'
  at: number
  text?: string
  /** A message that is neither text nor a file: its type. */
  type?: string
  files?: ItemFile[]
  state?: DeliveryState
  error?: string
}

/** Messages from senders that did not say who they are (anoncrypt). */
export const ANONYMOUS = 'anonymous'
/** Items kept per conversation; older ones are dropped (localStorage holds a few MB). */
const KEEP = 200

interface Saved {
  me: { name?: string; invitationId?: string }
  contacts: Contact[]
  items: Record<string, Item[]>
}

/**
 * `did:peer:2.Ez…x4Qa`: the method, the id's first two characters and the last four of its first part
 * (for did:peer:2 the first key, which differs between wallets; the end of the whole DID is the
 * mediator's service, the same for every wallet of one mediator).
 */
export function shortDid(did: string): string {
  if (did === ANONYMOUS) return 'anonymous'
  const m = /^(did:[a-z0-9]+:)(.*)$/.exec(did)
  if (!m) return did.length > 16 ? `${did.slice(0, 8)}…${did.slice(-4)}` : did
  const [, method, id] = m as unknown as [string, string, string]
  if (id.length <= 12) return did
  const head = method === 'did:peer:' && /^[02]\./.test(id) ? id.slice(0, 4) : id.slice(0, 2)
  const first = (id.startsWith('2.') ? id.slice(2).split('.')[0] : id) as string
  return `${method}${head}…${first.slice(-4)}`
}

export class Book {
  private readonly key: string
  private readonly data: Saved
  /** Called after every change (the page re-renders). */
  onChange: (contactDid?: string) => void = () => {}

  constructor(
    ownDid: string,
    private readonly storage: Storage = localStorage,
  ) {
    this.key = `didcomm-carrier-wallet:${ownDid}`
    let saved: Partial<Saved> = {}
    try {
      saved = JSON.parse(storage.getItem(this.key) ?? '{}') as Partial<Saved>
    } catch {}
    this.data = { me: saved.me ?? {}, contacts: saved.contacts ?? [], items: saved.items ?? {} }
    // what was being sent when the page went away never reported back
    for (const list of Object.values(this.data.items))
      for (const i of list)
        if (i.state === 'sending') {
          i.state = 'failed'
          i.error = 'the page was closed while sending'
        }
  }

  get me(): Saved['me'] {
    return this.data.me
  }

  setMe(me: Partial<Saved['me']>): void {
    Object.assign(this.data.me, me)
    this.save()
  }

  get contacts(): readonly Contact[] {
    return this.data.contacts
  }

  contact(did: string): Contact | undefined {
    return this.data.contacts.find((c) => c.did === did)
  }

  /** The contact, added when new; a name given replaces none but never a name the user chose. */
  ensure(did: string, name?: string): Contact {
    let c = this.contact(did)
    if (!c) {
      c = { did, added: Date.now(), ...(name ? { name } : {}) }
      this.data.contacts.push(c)
    } else if (name && !c.name) c.name = name
    this.save(did)
    return c
  }

  rename(did: string, name: string): void {
    const c = this.ensure(did)
    if (name.trim()) c.name = name.trim()
    else delete c.name
    this.save(did)
  }

  items(did: string): readonly Item[] {
    return this.data.items[did] ?? []
  }

  add(did: string, item: Omit<Item, 'id' | 'at'>): Item {
    this.ensure(did)
    const full: Item = { id: crypto.randomUUID(), at: Date.now(), ...item }
    const list = (this.data.items[did] ??= [])
    list.push(full)
    if (list.length > KEEP) list.splice(0, list.length - KEEP)
    this.save(did)
    return full
  }

  update(did: string, item: Item, change: Partial<Item>): void {
    Object.assign(item, change)
    this.save(did)
  }

  /** Contacts, the one with the latest item first. */
  sorted(): Contact[] {
    const last = (c: Contact) => this.items(c.did).at(-1)?.at ?? c.added
    return [...this.data.contacts].sort((a, b) => last(b) - last(a))
  }

  private save(did?: string): void {
    try {
      this.storage.setItem(this.key, JSON.stringify(this.data))
    } catch {
      // storage full: the page still shows everything; older items go first next time
    }
    this.onChange(did)
  }
}
