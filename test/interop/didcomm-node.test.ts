import { Message as NodeMessage } from 'didcomm-node'
import { describe, expect, it } from 'vitest'
import { type Enc, forwardPayload, type Message, packEncrypted, packSigned, unpack } from '../../src/index.js'
import { fixtures, load } from '../didcomm/support.js'
import { interopRecorder } from './record.js'

/**
 * Interop with didcomm-node (the WASM build of didcomm-rust), both ways, on every combination both
 * support: X25519 and P-256 key agreement (it rejects P-384/P-521), anoncrypt with its three
 * content encryptions, authcrypt, signed (EdDSA, ES256, ES256K) + authcrypt, protect_sender, and a
 * forward through a mediator.
 */
const rec = interopRecorder('didcomm-node')
const { resolver, secrets, docs } = fixtures()
const rustSecrets = Object.values(load('didcomm-rust/secrets.json') as Record<string, { id: string }[]>).flat()

const nodeResolver = {
  resolve: async (did: string) => {
    const doc = docs.filter((d) => d.id === did).at(-1)
    return doc ? structuredClone(doc) : null
  },
}
const nodeSecrets = {
  get_secret: async (id: string) => rustSecrets.find((s) => s.id === id) ?? null,
  find_secrets: async (ids: string[]) => ids.filter((id) => rustSecrets.some((s) => s.id === id)),
}

const ENC_NAMES: Record<Enc, 'A256cbcHs512EcdhEsA256kw' | 'Xc20pEcdhEsA256kw' | 'A256gcmEcdhEsA256kw'> = {
  'A256CBC-HS512': 'A256cbcHs512EcdhEsA256kw',
  XC20P: 'Xc20pEcdhEsA256kw',
  A256GCM: 'A256gcmEcdhEsA256kw',
}

function msg(extra: Partial<Message> = {}): Message {
  return {
    id: `interop-${Math.random().toString(36).slice(2)}`,
    type: 'https://example.org/interop/1.0/hello',
    from: 'did:example:alice',
    to: ['did:example:bob'],
    created_time: Math.floor(Date.now() / 1000),
    body: { text: 'héllo, rust' },
    ...extra,
  }
}

interface Case {
  name: string
  /** Its row in docs/INTEROP.md. */
  packing: string
  algs: string
  to: string
  from?: string
  signFrom?: string
  enc?: Enc
  protectSender?: boolean
}

const cases: Case[] = [
  ...(['X25519', 'P-256'] as const).flatMap((crv) => {
    const to = crv === 'X25519' ? 'did:example:bob#key-x25519-1' : 'did:example:bob#key-p256-1'
    const from = crv === 'X25519' ? 'did:example:alice#key-x25519-1' : 'did:example:alice#key-p256-1'
    const SIGN_ALGS = ['EdDSA', 'ES256', 'ES256K']
    return [
      ...(['A256CBC-HS512', 'A256GCM', 'XC20P'] as const).map((enc) => ({
        name: `anoncrypt ${crv} ${enc}`,
        packing: 'anoncrypt',
        algs: `${crv}, ${enc}`,
        to,
        enc,
      })),
      { name: `authcrypt ${crv}`, packing: 'authcrypt', algs: `${crv}, A256CBC-HS512`, to, from },
      {
        name: `authcrypt ${crv}, protect_sender`,
        packing: 'authcrypt, protect sender',
        algs: `${crv}, A256CBC-HS512 in A256CBC-HS512`,
        to,
        from,
        protectSender: true,
      },
      ...['did:example:alice#key-1', 'did:example:alice#key-2', 'did:example:alice#key-3'].map((signFrom, i) => ({
        name: `signed by ${signFrom.split('#')[1]} + authcrypt ${crv}`,
        packing: 'signed + authcrypt',
        algs: `${SIGN_ALGS[i]}, ${crv}, A256CBC-HS512`,
        to,
        from,
        signFrom,
      })),
      {
        name: `signed by key-1 + anoncrypt ${crv}`,
        packing: 'signed + anoncrypt',
        algs: `EdDSA, ${crv}, A256CBC-HS512`,
        to,
        signFrom: 'did:example:alice#key-1',
      },
    ]
  }),
]

describe('interop with didcomm-node', () => {
  for (const c of cases) {
    it(`${c.name}: we pack, it unpacks`, async () => {
      const m = msg()
      const packed = await packEncrypted(m, { ...c, forward: false, resolver, secrets })
      const [out, meta] = await NodeMessage.unpack(packed.packed, nodeResolver as never, nodeSecrets as never, {})
      expect(out.as_value()).toMatchObject({ id: m.id, type: m.type, body: m.body, from: m.from })
      expect(meta).toMatchObject({
        encrypted: true,
        authenticated: c.from !== undefined || c.signFrom !== undefined,
        non_repudiation: c.signFrom !== undefined,
      })
      if (c.from) expect(meta.encrypted_from_kid).toBe(c.from)
      if (c.signFrom) expect(meta.sign_from).toBe(c.signFrom)
      rec.record({ direction: 'we-pack', packing: c.packing, algs: c.algs, outcome: 'works' })
    })

    it(`${c.name}: it packs, we unpack`, async () => {
      const m = msg()
      const nm = new NodeMessage({ ...m, typ: 'application/didcomm-plain+json' } as never)
      const [packed] = await nm.pack_encrypted(
        c.to,
        c.from ?? null,
        c.signFrom ?? null,
        nodeResolver as never,
        nodeSecrets as never,
        {
          forward: false,
          protect_sender: c.protectSender ?? false,
          ...(c.enc ? { enc_alg_anon: ENC_NAMES[c.enc] } : {}),
        },
      )
      const { message, metadata } = await unpack(packed, { resolver, secrets })
      expect(message).toMatchObject({ id: m.id, type: m.type, body: m.body })
      expect(metadata).toMatchObject({
        encrypted: true,
        authenticated: c.from !== undefined || c.signFrom !== undefined,
        nonRepudiation: c.signFrom !== undefined,
        anonymousSender: c.from === undefined || c.protectSender === true,
      })
      if (c.from) expect(metadata.encryptedFrom).toBe(c.from)
      if (c.signFrom) expect(metadata.signFrom).toBe(c.signFrom)
      if (c.enc) expect(metadata.encAlgAnon).toBe(`ECDH-ES+A256KW/${c.enc}`)
      rec.record({ direction: 'they-pack', packing: c.packing, algs: c.algs, outcome: 'works' })
    })
  }

  for (const [signFrom, alg] of [
    ['did:example:alice#key-1', 'EdDSA'],
    ['did:example:alice#key-2', 'ES256'],
    ['did:example:alice#key-3', 'ES256K'],
  ] as const) {
    it(`signed (JWS alone) ${alg}: both ways`, async () => {
      const m = msg()
      const ours = await packSigned(m, { signFrom, secrets })
      const [out, meta] = await NodeMessage.unpack(ours, nodeResolver as never, nodeSecrets as never, {})
      expect(out.as_value()).toMatchObject({ id: m.id, body: m.body })
      expect(meta).toMatchObject({ non_repudiation: true, sign_from: signFrom, encrypted: false })
      rec.record({ direction: 'we-pack', packing: 'signed', algs: alg, outcome: 'works' })
      const nm = new NodeMessage({ ...m, typ: 'application/didcomm-plain+json' } as never)
      const [theirs] = await nm.pack_signed(signFrom, nodeResolver as never, nodeSecrets as never)
      const { metadata } = await unpack(theirs, { resolver, secrets })
      expect(metadata).toMatchObject({ nonRepudiation: true, signFrom, signAlg: alg, encrypted: false })
      rec.record({ direction: 'they-pack', packing: 'signed', algs: alg, outcome: 'works' })
    })
  }

  // it implements X25519 and P-256 key agreement only
  for (const [crv, to, from] of [
    ['P-384', 'did:example:bob#key-p384-1', undefined],
    ['P-521', 'did:example:bob#key-p521-1', 'did:example:alice#key-p521-1'],
  ] as const) {
    const packing = from ? 'authcrypt' : 'anoncrypt'
    it(`${packing} ${crv}: it refuses to unpack ours and to pack one`, async () => {
      const m = msg()
      const packed = await packEncrypted(m, { to, from, forward: false, resolver, secrets })
      expect((await unpack(packed.packed, { resolver, secrets })).message.id).toBe(m.id)
      const unpacked = await NodeMessage.unpack(packed.packed, nodeResolver as never, nodeSecrets as never, {}).then(
        () => 'unpacked',
        (e: unknown) => String(e),
      )
      expect(unpacked).toMatch(/^DIDCommUnsupported: Unsupported crypto or method/)
      rec.record({
        direction: 'we-pack',
        packing,
        algs: `${crv}, A256CBC-HS512`,
        outcome: 'refused',
        note: `didcomm-rust: "${unpacked}"`,
      })
      const nm = new NodeMessage({ ...m, typ: 'application/didcomm-plain+json' } as never)
      const refused = await nm
        .pack_encrypted(to, from ?? null, null, nodeResolver as never, nodeSecrets as never, { forward: false })
        .then(
          () => 'packed',
          (e: unknown) => String(e),
        )
      expect(refused).not.toBe('packed')
      rec.record({
        direction: 'they-pack',
        packing,
        algs: `${crv}, A256CBC-HS512`,
        outcome: 'refused',
        note: `didcomm-rust: "${refused}"`,
      })
    })
  }

  it('forward through a mediator: it wraps, we unwrap as the mediator and as bob', async () => {
    const m = msg()
    const nm = new NodeMessage({ ...m, typ: 'application/didcomm-plain+json' } as never)
    const [packed] = await nm.pack_encrypted(
      'did:example:bob',
      'did:example:alice',
      null,
      nodeResolver as never,
      nodeSecrets as never,
      {
        forward: true,
      },
    )
    const outer = await unpack(packed, { resolver, secrets })
    expect(outer.metadata.forwarded).toBe(true)
    expect(outer.metadata.encryptedTo?.[0]).toBe('did:example:mediator1#key-x25519-1')
    const f = forwardPayload(outer.message)
    expect(f.next).toBe('did:example:bob')
    const inner = await unpack(f.envelope, { resolver, secrets })
    expect(inner.message).toMatchObject({ id: m.id, body: m.body })
    expect(inner.metadata.encryptedFrom).toMatch(/^did:example:alice#/)
  })

  it('forward through a mediator: we wrap, it unwraps as the mediator and as bob', async () => {
    const m = msg()
    const packed = await packEncrypted(m, { to: 'did:example:bob', from: 'did:example:alice', resolver, secrets })
    expect(packed.forwardedThrough).toEqual(['did:example:mediator1#key-x25519-1'])
    const [fwd] = await NodeMessage.unpack(packed.packed, nodeResolver as never, nodeSecrets as never, {})
    const fv = fwd.as_value() as Message
    expect(fv.type).toBe('https://didcomm.org/routing/2.0/forward')
    expect(fv.body).toEqual({ next: 'did:example:bob' })
    const inner = JSON.stringify(fv.attachments?.[0]?.data.json)
    const [out] = await NodeMessage.unpack(inner, nodeResolver as never, nodeSecrets as never, {})
    expect(out.as_value()).toMatchObject({ id: m.id, body: m.body })
  })
})

rec.checkCommitted()
