import { describe, expect, it } from 'vitest'
import { DIDCommError } from '../../src/didcomm/errors.js'
import { unpack } from '../../src/didcomm/pack.js'
import { fixtures, load } from './support.js'

const { resolver, secrets } = fixtures()
// the vectors were made in 2018; their expires_time has long passed
const now = () => 1516269022

const ALG_NAMES: Record<string, string> = {
  'AnonCryptAlg.XC20P_ECDH_ES_A256KW': 'ECDH-ES+A256KW/XC20P',
  'AnonCryptAlg.A256CBC_HS512_ECDH_ES_A256KW': 'ECDH-ES+A256KW/A256CBC-HS512',
  'AnonCryptAlg.A256GCM_ECDH_ES_A256KW': 'ECDH-ES+A256KW/A256GCM',
  'AuthCryptAlg.A256CBC_HS512_ECDH_1PU_A256KW': 'ECDH-1PU+A256KW/A256CBC-HS512',
  'SignAlg.ED25519': 'EdDSA',
  'SignAlg.ES256': 'ES256',
  'SignAlg.ES256K': 'ES256K',
}

describe('DIDComm test vectors (didcomm-python spec vectors, with expected metadata)', () => {
  const v = load('didcomm-python/spec_test_vectors.json') as Record<string, unknown>
  const expectedPlain = v['plaintext:TEST_PLAINTEXT_DIDCOMM_MESSAGE_SIMPLE'] as Record<string, unknown>
  for (const [name, list] of Object.entries(v)) {
    if (!Array.isArray(list)) continue
    list.forEach((item: { value: object; metadata: Record<string, unknown> }, i: number) => {
      it(`${name} #${i} unpacks with the expected metadata`, async () => {
        const { message, metadata } = await unpack(item.value, { resolver, secrets, now })
        expect(message.id).toBe(expectedPlain.id)
        expect(message.body).toEqual(expectedPlain.body)
        const m = item.metadata
        expect(metadata).toMatchObject({
          encrypted: m.encrypted,
          authenticated: m.authenticated,
          nonRepudiation: m.non_repudiation,
          anonymousSender: m.anonymous_sender,
        })
        if (m.encrypted_to) expect(metadata.encryptedTo).toEqual(m.encrypted_to)
        if (m.encrypted_from) expect(metadata.encryptedFrom).toBe(m.encrypted_from)
        if (m.sign_from) expect(metadata.signFrom).toBe(m.sign_from)
        if (m.enc_alg_anon) expect(metadata.encAlgAnon).toBe(ALG_NAMES[m.enc_alg_anon as string])
        if (m.enc_alg_auth) expect(metadata.encAlgAuth).toBe(ALG_NAMES[m.enc_alg_auth as string])
        expect(metadata.encAlg).toBe(ALG_NAMES[(m.enc_alg_auth ?? m.enc_alg_anon) as string])
        if (m.sign_alg) expect(metadata.signAlg).toBe(ALG_NAMES[m.sign_alg as string])
      })
    })
  }
})

describe('DIDComm test vectors (spec appendix v2.1)', () => {
  const msgs = load('spec-appendix-v2.1/messages.json') as { section: string; description: string; message: object }[]
  for (const [i, m] of msgs.entries()) {
    it(`${m.section} #${i} unpacks to the appendix's plaintext`, async () => {
      const { message } = await unpack(m.message, { resolver, secrets, now })
      expect(message.id).toBe('1234567890')
      expect(message.from).toBe('did:example:alice')
    })
  }
})

describe('DIDComm test vectors (didcomm-rust messages)', () => {
  const m = load('didcomm-rust/messages.json') as Record<string, { value: unknown }>
  const validNames = Object.keys(m).filter((k) => /^(PLAINTEXT_MSG|SIGNED_MSG|ENCRYPTED_MSG|PLAINTEXT_FROM_PRIOR$)/.test(k))
  for (const name of validNames) {
    it(`${name} unpacks`, async () => {
      const { message, metadata } = await unpack(m[name]?.value as object, { resolver, secrets, now })
      expect(message.id).toBe('1234567890')
      if (name === 'PLAINTEXT_FROM_PRIOR') expect(metadata.fromPriorIssuerKid).toBe('did:example:charlie#key-1')
    })
  }
  // DIDComm v2.1 made body optional on receipt (see the vectors' README)
  const invalidNames = Object.keys(m).filter(
    (k) =>
      /^INVALID_|_INVALID_|INVALID_FROM_PRIOR/.test(k) &&
      k !== 'INVALID_PLAINTEXT_MSG_NO_BODY' &&
      !k.startsWith('FROM_PRIOR_JWT'),
  )
  for (const name of invalidNames) {
    it(`${name} is rejected with a typed error`, async () => {
      const value = m[name]?.value as Record<string, unknown>
      const input = value && '__unparseable_raw' in value ? String(value.__unparseable_raw) : value
      await expect(unpack(input as object, { resolver, secrets, now })).rejects.toBeInstanceOf(DIDCommError)
    })
  }
  it('an epk that is not on its curve is rejected as an invalid key', async () => {
    await expect(
      unpack(m.INVALID_ENCRYPTED_MSG_ANON_P256_EPK_WRONG_POINT?.value as object, { resolver, secrets, now }),
    ).rejects.toMatchObject({
      code: 'ERR_DIDCOMM_INVALID_KEY',
    })
  })

  it('INVALID_PLAINTEXT_MSG_NO_BODY is valid under v2.1', async () => {
    const { message } = await unpack(m.INVALID_PLAINTEXT_MSG_NO_BODY?.value as object, { resolver, secrets, now })
    expect(message.body).toBeUndefined()
  })
})

describe('DIDComm test vectors (didcomm-jvm fixtures)', () => {
  const fx = load('didcomm-jvm/fixtures.json') as {
    class: string
    nearest_val?: string
    value: unknown
    negative?: boolean
    expectedMessage?: string
  }[]
  fx.forEach((f, i) => {
    const label = `${f.class} ${f.nearest_val ?? `#${i}`}`
    if (f.negative) {
      it(`${label} is rejected with a typed error (${f.expectedMessage ?? 'negative'})`, async () => {
        await expect(unpack(f.value as object, { resolver, secrets, now })).rejects.toBeInstanceOf(DIDCommError)
      })
    } else {
      it(`${label} unpacks`, async () => {
        const { message } = await unpack(f.value as object, { resolver, secrets, now })
        expect(typeof message.id).toBe('string')
      })
    }
  })
})
