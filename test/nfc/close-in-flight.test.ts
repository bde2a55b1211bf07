import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { havePcscd, Pcscd } from '../support/pcscd.js'
import { runTsx } from '../support/run.js'

/**
 * Issue 28: `npm run demo` froze for good when the reader was closed while an APDU to the demo's
 * own (in-process) card was in flight — the native close waited on the reader's mutex, held by the
 * transmit, which waited for the card, which answers from the blocked main thread. A frozen event
 * loop would freeze this test's worker too, so the scenario runs in a child process
 * (close-in-flight.ts) and the test asserts that it exits, cleanly, with the expected outcome.
 */

// The child needs ~1–3 s (tsx start-up, PC/SC connect, one APDU, a 100 ms or 500 ms wait). The
// bound only tells a hang (the child never exits) from a finished run; it measures nothing.
const HANG_MS = 60_000

describe.skipIf(!havePcscd())('closing a PC/SC reader while an APDU is in flight', () => {
  let pcscd: Pcscd
  beforeAll(async () => {
    pcscd = await Pcscd.start()
  }, 11 * 60_000)
  afterAll(async () => {
    await pcscd?.stop()
  })

  const child = async (mode: 'late' | 'never') => {
    const r = await runTsx(['test/nfc/close-in-flight.ts', String(pcscd.vpcdPort), mode], HANG_MS)
    expect(r.code, `the child did not exit by itself (frozen?): ${r.stderr}`).toBe(0)
    return JSON.parse(r.stdout.trim().split('\n').pop() as string)
  }

  it('the card answers later: close waits for the transmit, which gets its answer, then releases the reader', {
    timeout: HANG_MS + 10_000,
  }, async () => {
    expect(await child('late')).toMatchObject({ mode: 'late', closed: true, sw: 0x9000 })
  })

  it('the card never answers: close gives up with ERR_NFC_CLOSE_TIMEOUT, and the reader is released once the card leaves', {
    timeout: HANG_MS + 10_000,
  }, async () => {
    // the process exits by itself: PC/SC's threads were closed once the transmit ended (the card left)
    const r = await child('never')
    expect(r).toMatchObject({ mode: 'never', closed: false, code: 'ERR_NFC_CLOSE_TIMEOUT' })
    expect(r.sw).toBeUndefined() // the card never answered
  })
})
