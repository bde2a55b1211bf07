/**
 * A version 4 UUID: crypto.randomUUID where the runtime has it, else from crypto.getRandomValues
 * (React Native: react-native-get-random-values provides only that).
 */
export function randomUUID(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (typeof c?.randomUUID === 'function') return c.randomUUID()
  const b = c?.getRandomValues(new Uint8Array(16))
  if (!b) throw new TypeError('no crypto.getRandomValues: install a polyfill (react-native-get-random-values)')
  b[6] = ((b[6] as number) & 0x0f) | 0x40
  b[8] = ((b[8] as number) & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
