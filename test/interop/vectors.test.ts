import { describe, expect, it } from 'vitest'
import { publicKey } from '../../src/did/document.js'
import { ALG_AUTH, decryptJwe } from '../../src/didcomm/jwe.js'
import { verifyJws } from '../../src/didcomm/jws.js'
import { unpack } from '../../src/didcomm/pack.js'
import { fixtures, load } from '../didcomm/support.js'
import { interopRecorder } from './record.js'

/**
 * The published envelopes of didcomm-python (the spec vectors, with expected metadata) and
 * didcomm-jvm (its fixtures), unpacked by us: each recorded in the interop table by its layers
 * (read here layer by layer) — they pack, we unpack. Their refusals (negative fixtures) are in
 * test/didcomm/vectors.test.ts.
 */
const { resolver, secrets } = fixtures()
const now = () => 1516269022

type Layer = { kind: 'anon' | 'auth'; crv: string; enc: string } | { kind: 'signed'; alg: string }

async function layersOf(envelope: unknown): Promise<Layer[]> {
  const layers: Layer[] = []
  let value = envelope as Record<string, unknown>
  for (let i = 0; i < 4; i++) {
    if (typeof value.ciphertext === 'string') {
      const d = await decryptJwe(value, {
        findKey: (kid) => secrets.get(kid),
        senderKey: (skid) => publicKey(resolver, skid, ['keyAgreement']),
      })
      layers.push({ kind: d.header.alg === ALG_AUTH ? 'auth' : 'anon', crv: d.header.epk.crv, enc: d.header.enc })
      value = JSON.parse(new TextDecoder().decode(d.plaintext))
    } else if (typeof value.payload === 'string') {
      const v = await verifyJws(value, (kid) => publicKey(resolver, kid, ['authentication', 'assertionMethod']))
      layers.push({ kind: 'signed', alg: v.algs[0] as string })
      value = JSON.parse(new TextDecoder().decode(v.payload))
    } else break
  }
  return layers
}

/** The table row of an envelope: its packing and algorithms, named as every interop suite names them. */
function rowOf(layers: Layer[]): { packing: string; algs: string } | undefined {
  const signed = layers.find((l) => l.kind === 'signed') as { alg: string } | undefined
  const enc = layers.filter((l) => l.kind !== 'signed') as { kind: string; crv: string; enc: string }[]
  const auth = enc.find((l) => l.kind === 'auth')
  const anon = enc.find((l) => l.kind === 'anon')
  if (!signed && enc.length === 0) return undefined
  const protect = auth && anon
  const packing = [
    signed && (enc.length ? 'signed + ' : 'signed'),
    auth ? 'authcrypt' : anon ? 'anoncrypt' : '',
    protect ? ', protect sender' : '',
  ].join('')
  const main = auth ?? anon
  const algs = [
    signed?.alg,
    main && `${main.crv}, ${main.enc}`,
    protect && anon && (anon.crv === auth.crv ? `in ${anon.enc}` : `in ${anon.crv}, ${anon.enc}`),
  ]
    .filter(Boolean)
    .join(', ')
    .replace(', in ', ' in ')
  return { packing, algs }
}

describe('didcomm-python spec vectors: they pack, we unpack', () => {
  const rec = interopRecorder('didcomm-python')
  const v = load('didcomm-python/spec_test_vectors.json') as Record<string, unknown>
  for (const [name, list] of Object.entries(v)) {
    if (!Array.isArray(list)) continue
    list.forEach((item: { value: object }, i: number) => {
      it(`${name} #${i}`, async () => {
        const { message } = await unpack(item.value, { resolver, secrets, now })
        expect(message.id).toBe('1234567890')
        const row = rowOf(await layersOf(item.value))
        expect(row).toBeDefined()
        rec.record({ direction: 'they-pack', ...(row as { packing: string; algs: string }), outcome: 'works' })
      })
    })
  }
  rec.checkCommitted()
})

describe('didcomm-jvm fixtures: they pack, we unpack', () => {
  const rec = interopRecorder('didcomm-jvm')
  const fx = load('didcomm-jvm/fixtures.json') as { class: string; nearest_val?: string; value: unknown; negative?: boolean }[]
  fx.forEach((f, i) => {
    if (f.negative || f.class === 'JWM') return
    it(`${f.class} ${f.nearest_val ?? `#${i}`}`, async () => {
      const { message } = await unpack(f.value as object, { resolver, secrets, now })
      expect(typeof message.id).toBe('string')
      const row = rowOf(await layersOf(typeof f.value === 'string' ? JSON.parse(f.value) : f.value))
      expect(row).toBeDefined()
      rec.record({ direction: 'they-pack', ...(row as { packing: string; algs: string }), outcome: 'works' })
    })
  })
  rec.checkCommitted()
})

describe('row names', () => {
  it('name nested layers as the live suites do', () => {
    expect(
      rowOf([
        { kind: 'anon', crv: 'X25519', enc: 'XC20P' },
        { kind: 'auth', crv: 'X25519', enc: 'A256CBC-HS512' },
      ]),
    ).toEqual({
      packing: 'authcrypt, protect sender',
      algs: 'X25519, A256CBC-HS512 in XC20P',
    })
    expect(
      rowOf([
        { kind: 'auth', crv: 'P-256', enc: 'A256CBC-HS512' },
        { kind: 'signed', alg: 'ES256' },
      ]),
    ).toEqual({
      packing: 'signed + authcrypt',
      algs: 'ES256, P-256, A256CBC-HS512',
    })
    expect(rowOf([{ kind: 'signed', alg: 'EdDSA' }])).toEqual({ packing: 'signed', algs: 'EdDSA' })
    expect(rowOf([])).toBeUndefined()
  })
})
