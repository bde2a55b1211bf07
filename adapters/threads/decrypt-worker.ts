import { parentPort, workerData } from 'node:worker_threads'
import { err } from '../../src/didcomm/errors.js'
import { decryptJwe } from '../../src/didcomm/jwe.js'
import type { Jwk } from '../../src/didcomm/keys.js'

/**
 * One thread of the decryption pool: opens anoncrypt JWEs for the pool's keys and posts back the
 * result, or the error's code and message. Nothing a sender puts in a JWE ends this thread.
 */
const keys = new Map((workerData.secrets as (Jwk & { kid: string })[]).map((k) => [k.kid, k]))
const port = parentPort as NonNullable<typeof parentPort>

port.on('message', async ({ id, jwe }: { id: number; jwe: Record<string, unknown> }) => {
  try {
    const d = await decryptJwe(jwe, {
      findKey: async (kid) => keys.get(kid) ?? null,
      senderKey: async () => {
        throw err.unsupported('authcrypt is opened by the agent, not the pool')
      },
    })
    // a copy of exactly its bytes (OpenSSL's output may sit in a shared slab), handed over, not cloned
    const plaintext = new Uint8Array(d.plaintext)
    port.postMessage({ id, value: { ...d, plaintext } }, [plaintext.buffer])
  } catch (e) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    port.postMessage({ id, error: { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: String(message) } })
  }
})
