import { afterAll, beforeAll } from 'vitest'
import { Btvirt } from './btvirt.js'

/**
 * One emulator for the enclosing describe block: started before its tests, stopped after. The
 * returned object reads the running one's `hci` and `socket`.
 */
export function useBtvirt(): { readonly hci: string; readonly socket: string } {
  let bt: Btvirt | undefined
  beforeAll(async () => {
    bt = await Btvirt.start()
  })
  afterAll(async () => {
    await bt?.stop()
  })
  const running = () => {
    if (!bt) throw new Error('btvirt is not running (useBtvirt() belongs inside a describe block)')
    return bt
  }
  return {
    get hci() {
      return running().hci
    },
    get socket() {
      return running().socket
    },
  }
}
