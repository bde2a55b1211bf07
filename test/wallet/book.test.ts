import { describe, expect, it } from 'vitest'
import { ANONYMOUS, Book, shortDid } from '../../adapters/qr/web/wallet-book.js'
import { createRoutedPeerDid } from '../../src/agent/mediation.js'
import { mediatorIdentity } from '../../src/mediator/mediator.js'

/** localStorage's contract over a Map (Node has no localStorage without a flag). */
class MapStorage implements Storage {
  private readonly m = new Map<string, string>()
  get length() {
    return this.m.size
  }
  clear() {
    this.m.clear()
  }
  getItem(k: string) {
    return this.m.get(k) ?? null
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null
  }
  removeItem(k: string) {
    this.m.delete(k)
  }
  setItem(k: string, v: string) {
    this.m.set(k, v)
  }
}

describe("the wallet's book", () => {
  it('shortens DIDs so that two wallets of one mediator still differ', () => {
    const med = mediatorIdentity(['http://127.0.0.1:1/']).did
    const a = createRoutedPeerDid(med).did
    const b = createRoutedPeerDid(med).did
    expect(a.length).toBeGreaterThan(200)
    expect(shortDid(a)).toMatch(/^did:peer:2\.Ez…[\w-]{4}$/)
    expect(shortDid(a)).not.toBe(shortDid(b))
    expect(shortDid('did:web:example.com')).toBe('did:web:example.com')
    expect(shortDid('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK')).toBe('did:key:z6…2doK')
    expect(shortDid(ANONYMOUS)).toBe('anonymous')
  })

  it('keeps contacts, names and conversations under the wallet DID; a send cut off by a reload is failed', () => {
    const storage = new MapStorage()
    const book = new Book('did:example:me', storage)
    book.ensure('did:example:bob', 'Bob from the invitation')
    book.rename('did:example:bob', 'Bob')
    book.ensure('did:example:bob', 'another label') // an invitation's label never replaces the user's name
    book.add('did:example:bob', { dir: 'in', text: 'hi' })
    book.add('did:example:bob', { dir: 'out', text: 'hello', state: 'sending' })
    const sent = book.add('did:example:carol', { dir: 'out', files: [{ filename: 'a.txt', bytes: 3 }], state: 'sending' })
    book.update('did:example:carol', sent, { state: 'sent' })
    book.setMe({ name: 'Me' })

    const again = new Book('did:example:me', storage)
    expect(again.me).toEqual({ name: 'Me' })
    expect(again.contacts.map((c) => [c.did, c.name])).toEqual([
      ['did:example:bob', 'Bob'],
      ['did:example:carol', undefined],
    ])
    expect(again.items('did:example:bob').map((i) => [i.dir, i.text, i.state])).toEqual([
      ['in', 'hi', undefined],
      ['out', 'hello', 'failed'],
    ])
    expect(again.items('did:example:carol')[0]?.state).toBe('sent')
    // another wallet in the same browser sees none of it
    expect(new Book('did:example:other', storage).contacts).toEqual([])
  })

  it('keeps the last 200 items of a conversation and starts afresh on unreadable storage', () => {
    const storage = new MapStorage()
    const book = new Book('did:example:me', storage)
    for (let i = 0; i < 210; i++) book.add('did:example:bob', { dir: 'in', text: String(i) })
    const kept = new Book('did:example:me', storage).items('did:example:bob')
    expect(kept.length).toBe(200)
    expect(kept[0]?.text).toBe('10')
    storage.setItem('didcomm-carrier-wallet:did:example:me', '{not json')
    expect(new Book('did:example:me', storage).contacts).toEqual([])
  })
})
