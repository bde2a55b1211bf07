import SDK from '@hyperledger/identus-sdk'

/**
 * The Identus SDK 7 (Hyperledger Identus edge agent) in Node, unmodified: its building blocks
 * Apollo (keys), Castor (DIDs), Pluto (storage, here over an in-memory store) and its DIDComm
 * wrapper (didcomm-rust in WASM driven by Castor's resolution and Pluto's keys) — all an Identus
 * agent uses to pack and unpack, without a mediator or HTTP.
 */

type Row = Record<string, unknown> & { uuid: string }
type Selector = Record<string, unknown>

/** Mango-style matching, as much of it as Pluto's repositories use ($and, $or, $eq, $in, $ne, fields). */
function matches(row: Row, selector: Selector | undefined): boolean {
  if (!selector) return true
  return Object.entries(selector).every(([k, cond]) => {
    if (k === '$and') return (cond as Selector[]).every((s) => matches(row, s))
    if (k === '$or') return (cond as Selector[]).some((s) => matches(row, s))
    const v = row[k]
    if (cond && typeof cond === 'object' && !Array.isArray(cond)) {
      const ops = cond as Record<string, unknown>
      if ('$eq' in ops && v !== ops.$eq) return false
      if ('$ne' in ops && v === ops.$ne) return false
      if ('$in' in ops && !(ops.$in as unknown[]).includes(v)) return false
      if ('$nin' in ops && (ops.$nin as unknown[]).includes(v)) return false
      if ('$exists' in ops && (v !== undefined) !== ops.$exists) return false
      return true
    }
    return v === cond
  })
}

/** Pluto.Store over plain arrays: what the SDK needs of its storage, nothing durable. */
export function memoryPlutoStore(): SDK.Pluto.Store & { tables: Map<string, Row[]> } {
  const tables = new Map<string, Row[]>()
  const table = (name: string) => {
    let t = tables.get(name)
    if (!t) tables.set(name, (t = []))
    return t
  }
  return {
    tables,
    async query(name: string, query?: { selector?: Selector; limit?: number; skip?: number }) {
      const rows = table(name).filter((r) => matches(r, query?.selector))
      const from = query?.skip ?? 0
      return structuredClone(rows.slice(from, query?.limit === undefined ? undefined : from + query.limit)) as never
    },
    async insert(name: string, model: unknown) {
      table(name).push(structuredClone(model) as Row)
    },
    async update(name: string, model: unknown) {
      const t = table(name)
      const i = t.findIndex((r) => r.uuid === (model as Row).uuid)
      if (i >= 0) t[i] = structuredClone(model) as Row
    },
    async delete(name: string, uuid: string) {
      const t = table(name)
      const i = t.findIndex((r) => r.uuid === uuid)
      if (i >= 0) t.splice(i, 1)
    },
  }
}

export interface IdentusPieces {
  apollo: SDK.Apollo
  castor: SDK.Castor
  pluto: SDK.Pluto
  store: ReturnType<typeof memoryPlutoStore>
  /** What an Identus agent packs and unpacks with (Mercury's protocol). */
  didcomm: SDK.DIDCommWrapper
  /** The agent's Mercury over it: packMessage (authcrypt when the message has a from), unpackMessage. No HTTP. */
  mercury: SDK.Mercury
  /** A did:peer:2 the way the agent makes its own (X25519 + Ed25519, keys in Pluto). */
  createPeerDID(services?: SDK.Domain.DIDDocument.Service[]): Promise<SDK.Domain.DID>
  /** A DIDCommMessaging service for createPeerDID. */
  service(uri: string): SDK.Domain.DIDDocument.Service
}

/** The building blocks of an Identus agent, started, over an in-memory Pluto. */
export async function createIdentusPieces(): Promise<IdentusPieces> {
  const apollo = new SDK.Apollo()
  const castor = new SDK.Castor(apollo)
  const store = memoryPlutoStore()
  const pluto = new SDK.Pluto(store, apollo)
  await pluto.start()
  const didcomm = new SDK.DIDCommWrapper(apollo, castor, pluto)
  const noHttp = {
    request: async () => {
      throw new Error('these Identus pieces have no HTTP: pass an Api to Mercury to send')
    },
  }
  const mercury = new SDK.Mercury(castor, didcomm, noHttp as never)
  return {
    apollo,
    castor,
    pluto,
    store,
    didcomm,
    mercury,
    async createPeerDID(services = []) {
      const agreement = apollo.createPrivateKey({ type: SDK.Domain.KeyTypes.Curve25519, curve: SDK.Domain.Curve.X25519 })
      const signing = apollo.createPrivateKey({ type: SDK.Domain.KeyTypes.EC, curve: SDK.Domain.Curve.ED25519 })
      const did = await castor.createPeerDID([agreement.publicKey(), signing.publicKey()], services)
      await pluto.storeDID(did, [agreement, signing])
      return did
    },
    service: (uri) =>
      new SDK.Domain.DIDDocument.Service(
        '#didcomm-1',
        ['DIDCommMessaging'],
        new SDK.Domain.DIDDocument.ServiceEndpoint(uri, ['didcomm/v2']),
      ),
  }
}
