import { b64u } from './b64u.js'
import { assertEnc, cekFor, concatKdf, decryptContent, type Enc, encryptContent, unwrapKey, wrapKey } from './cipher.js'
import { err } from './errors.js'
import { assertValidPublicKey, ecdh, generateAgreementKey, type Jwk, publicJwk } from './keys.js'
import { sha256 } from './native.js'

export const ALG_ANON = 'ECDH-ES+A256KW'
export const ALG_AUTH = 'ECDH-1PU+A256KW'
export const TYP_ENCRYPTED = 'application/didcomm-encrypted+json'

export interface GeneralJwe {
  protected: string
  recipients: { header: { kid: string }; encrypted_key: string }[]
  iv: string
  ciphertext: string
  tag: string
}

export interface JweHeader {
  typ?: string
  alg: string
  enc: string
  epk: Jwk
  apu?: string
  apv?: string
  skid?: string
  cty?: string
}

/** apv: SHA-256 of the recipients' kids, sorted and joined by '.', base64url. */
export function apvFor(kids: string[]): string {
  const joined = [...kids].sort().join('.')
  let apv = apvs.get(joined)
  if (apv === undefined) {
    apv = b64u.encode(sha256(new TextEncoder().encode(joined)))
    // the same recipients come again and again (a mediator's own key): hashed once
    if (apvs.size >= 256) apvs.delete(apvs.keys().next().value as string)
    apvs.set(joined, apv)
  }
  return apv
}
const apvs = new Map<string, string>()

/**
 * Veramo's authcrypt (did-jwt's "ECDH-1PU v3"): the same header and key wrap, but the content tag
 * is not in the key derivation (ECDH-1PU draft 3), and any content encryption. Without the tag
 * in the KDF any recipient could re-encrypt as the sender for the others, so it is only ever used
 * for a single recipient, and only when asked for.
 */
export const VERAMO_AUTHCRYPT = 'veramo-authcrypt'

/**
 * Encrypts for several recipients sharing one ephemeral key (DIDComm's JWE layout, which jose's
 * multi-recipient JWE does not produce): ECDH-ES+A256KW, or ECDH-1PU+A256KW with the sender's key.
 */
export function encryptJwe(
  plaintext: Uint8Array,
  o: {
    recipients: { kid: string; key: Jwk }[]
    sender?: { kid: string; key: Jwk }
    enc: Enc
    cty?: string
    /** Authcrypt in Veramo's variant (single recipient only). */
    compat?: typeof VERAMO_AUTHCRYPT
  },
): GeneralJwe {
  if (o.recipients.length === 0) throw err.malformed('no recipients')
  const crv = (o.recipients[0] as { key: Jwk }).key.crv
  if (o.recipients.some((r) => r.key.crv !== crv)) throw err.invalidKey('recipients of one JWE must share a curve')
  if (o.sender && o.sender.key.crv !== crv)
    throw err.invalidKey(`sender key ${o.sender.key.crv} does not match recipients' ${crv}`)
  const veramo = o.sender !== undefined && o.compat === VERAMO_AUTHCRYPT
  if (veramo && o.recipients.length !== 1)
    throw err.unsupported(`Veramo's authcrypt is for one recipient only, not ${o.recipients.length}`)
  if (o.sender && !veramo && o.enc !== 'A256CBC-HS512') throw err.unsupported(`authcrypt requires A256CBC-HS512, not ${o.enc}`)
  const alg = o.sender ? ALG_AUTH : ALG_ANON
  const epk = generateAgreementKey(crv)
  const apv = apvFor(o.recipients.map((r) => r.kid))
  const header: JweHeader = {
    typ: TYP_ENCRYPTED,
    alg,
    enc: o.enc,
    apv,
    epk: publicJwk(epk),
    ...(o.sender ? { skid: o.sender.kid, apu: b64u.encode(new TextEncoder().encode(o.sender.kid)) } : {}),
    ...(o.cty ? { cty: o.cty } : {}),
  }
  const prot = b64u.encodeJson(header)
  const cek = cekFor(o.enc)
  const { iv, ciphertext, tag } = encryptContent(o.enc, cek, plaintext, new TextEncoder().encode(prot))
  const apuBytes = header.apu ? b64u.decode(header.apu) : new Uint8Array(0)
  const apvBytes = b64u.decode(apv)
  return {
    protected: prot,
    recipients: o.recipients.map((r) => {
      const ze = ecdh(epk, r.key)
      const z = o.sender ? concat(ze, ecdh(o.sender.key, r.key)) : ze
      const kek = concatKdf(z, alg, apuBytes, apvBytes, o.sender && !veramo ? tag : undefined)
      return { header: { kid: r.kid }, encrypted_key: b64u.encode(wrapKey(kek, cek)) }
    }),
    iv: b64u.encode(iv),
    ciphertext: b64u.encode(ciphertext),
    tag: b64u.encode(tag),
  }
}

export interface DecryptedJwe {
  plaintext: Uint8Array
  header: JweHeader
  kid: string
  recipientKids: string[]
  /** Set when the envelope was authcrypted in Veramo's variant (accepted only when asked for). */
  compat?: typeof VERAMO_AUTHCRYPT
}

export interface DecryptCompat {
  /**
   * Also read Veramo's authcrypt: ECDH-1PU without the content tag in the KDF (draft 3) and with
   * A256GCM or XC20P content encryption, for single-recipient envelopes only. The standard
   * derivation is always tried first.
   */
  veramoAuthcrypt?: boolean
}

/**
 * Decrypts a General or Flattened JSON JWE for the first recipient whose private key `findKey`
 * has; `senderKey` gives the sender's public key for ECDH-1PU (from `skid`).
 */
export async function decryptJwe(
  jwe: Record<string, unknown>,
  o: {
    findKey: (kid: string) => Promise<Jwk | null>
    senderKey: (skid: string) => Promise<Jwk>
    compat?: DecryptCompat
  },
): Promise<DecryptedJwe> {
  const get = (k: string) => {
    const v = jwe[k]
    if (typeof v !== 'string') throw err.malformed(`JWE without ${k}`)
    return v
  }
  const prot = get('protected')
  let header: JweHeader
  try {
    header = JSON.parse(new TextDecoder().decode(b64u.decode(prot))) as JweHeader
  } catch {
    throw err.malformed('JWE protected header is not base64url JSON')
  }
  if (header.alg !== ALG_ANON && header.alg !== ALG_AUTH) throw err.unsupported(`key management ${String(header.alg)}`)
  assertEnc(header.enc)
  if (!header.epk || typeof header.epk !== 'object') throw err.header('JWE without epk')
  assertValidPublicKey(header.epk)
  const recipients = Array.isArray(jwe.recipients)
    ? (jwe.recipients as { header?: { kid?: unknown }; encrypted_key?: unknown }[])
    : [{ header: jwe.header as { kid?: unknown }, encrypted_key: jwe.encrypted_key }]
  const kids = recipients.map((r) => r?.header?.kid)
  if (kids.some((k) => typeof k !== 'string')) throw err.malformed('JWE recipient without kid')
  if (header.apv !== undefined && header.apv !== apvFor(kids as string[])) {
    throw err.header('apv does not match the recipients')
  }
  let senderPub: Jwk | undefined
  // Veramo's variant can only be told apart by trying it: one recipient, and asked for
  const veramoAllowed = o.compat?.veramoAuthcrypt === true && recipients.length === 1
  if (header.alg === ALG_AUTH) {
    if (header.enc !== 'A256CBC-HS512' && !veramoAllowed)
      throw err.unsupported(
        `authcrypt with ${header.enc}${recipients.length === 1 ? " (Veramo's variant: unpack with compat.veramoAuthcrypt)" : ''}`,
      )
    if (typeof header.skid !== 'string') throw err.header('authcrypt JWE without skid')
    // apu is optional (RFC 7518 §4.6.1.2); when present it must name the same key as skid
    if (typeof header.apu === 'string' && new TextDecoder().decode(b64u.decode(header.apu)) !== header.skid)
      throw err.header('apu does not match skid')
    if (header.apu !== undefined && typeof header.apu !== 'string') throw err.header('apu is not a string')
    senderPub = await o.senderKey(header.skid)
    if (senderPub.crv !== header.epk.crv) throw err.header('sender key and epk on different curves')
  }
  const iv = b64u.decode(get('iv'))
  const ciphertext = b64u.decode(get('ciphertext'))
  const tag = b64u.decode(get('tag'))
  const aad = new TextEncoder().encode(prot)
  const apu = header.apu ? b64u.decode(header.apu) : new Uint8Array(0)
  const apv = header.apv ? b64u.decode(header.apv) : new Uint8Array(0)
  for (const r of recipients) {
    const kid = r.header?.kid as string
    const priv = await o.findKey(kid)
    if (!priv) continue
    if (priv.crv !== header.epk.crv) continue
    if (typeof r.encrypted_key !== 'string') throw err.malformed('JWE recipient without encrypted_key')
    const ze = ecdh(priv, header.epk)
    const z = senderPub ? concat(ze, ecdh(priv, senderPub)) : ze
    const wrapped = b64u.decode(r.encrypted_key)
    const standard = header.enc === 'A256CBC-HS512' || !senderPub
    if (standard) {
      try {
        const cek = unwrapKey(concatKdf(z, header.alg, apu, apv, senderPub ? tag : undefined), wrapped)
        return {
          plaintext: decryptContent(header.enc, cek, iv, ciphertext, tag, aad),
          header,
          kid,
          recipientKids: kids as string[],
        }
      } catch (e) {
        if (!senderPub || !veramoAllowed) throw e
      }
    }
    // Veramo's authcrypt: no tag in the key derivation (key unwrap fails unless that is what it is)
    const cek = unwrapKey(concatKdf(z, header.alg, apu, apv), wrapped)
    const plaintext = decryptContent(header.enc, cek, iv, ciphertext, tag, aad)
    return { plaintext, header, kid, recipientKids: kids as string[], compat: VERAMO_AUTHCRYPT }
  }
  throw err.noKey(`no private key for any recipient of the JWE (${kids.join(', ')})`)
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
