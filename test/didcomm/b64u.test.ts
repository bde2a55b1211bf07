import { describe, expect, it } from 'vitest'
import { b64u } from '../../src/didcomm/b64u.js'
import { seededBytes } from '../../src/testing/prng.js'

describe('b64u.decode refuses what is not base64url, short and long alike', () => {
  // long strings are checked by their decoded length instead of a regular expression: both paths
  const sizes = [30, 3 * 1024 * 1024]
  for (const size of sizes) {
    const good = b64u.encode(seededBytes(size, 3))
    it(`round-trips ${good.length} characters, and takes trailing '=' padding`, () => {
      const same = (a: Uint8Array) => Buffer.compare(a, seededBytes(size, 3)) === 0
      expect(same(b64u.decode(good))).toBe(true)
      expect(same(b64u.decode(`${good}==`))).toBe(true)
    })
    const at = Math.floor(good.length / 2)
    const bad: Record<string, string> = {
      'a "+" (base64, not base64url)': `${good.slice(0, at)}+${good.slice(at + 1)}`,
      'a "/"': `${good.slice(0, at)}/${good.slice(at + 1)}`,
      'a space': `${good.slice(0, at)} ${good.slice(at + 1)}`,
      'a newline': `${good.slice(0, at)}\n${good.slice(at + 1)}`,
      "an '=' inside": `${good.slice(0, at)}=${good.slice(at + 1)}`,
      'a non-ASCII letter': `${good.slice(0, at)}é${good.slice(at + 1)}`,
      'a "."': `${good.slice(0, at)}.${good.slice(at + 1)}`,
      'one character too many (length 4n+1)': `${good}${good.length % 4 === 0 ? 'A' : ''}`.slice(
        0,
        good.length - (good.length % 4) + 1,
      ),
    }
    for (const [what, s] of Object.entries(bad))
      it(`refuses ${what} in ${good.length} characters`, () => {
        expect(() => b64u.decode(s)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_DIDCOMM/) }))
      })
  }
})
