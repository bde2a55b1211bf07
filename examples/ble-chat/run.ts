/**
 * npx tsx examples/ble-chat/run.ts — both ends of the chat on one machine, on BlueZ's emulated
 * controllers (apt-get install bluez-test-tools gcc), with scripted lines.
 */
import { Btvirt } from '../../test/support/btvirt.js'
import { chat } from './chat.js'

const bt = await Btvirt.start()
try {
  const [heardByA, heardByB] = await Promise.all([
    chat({
      role: 'peripheral',
      token: 'demo',
      hci: bt.hci,
      name: 'alice',
      lines: ['hi bob', 'no network here'],
      hear: 2,
      print: (l) => console.log(`[alice] ${l}`),
    }),
    chat({
      role: 'central',
      token: 'demo',
      hci: bt.hci,
      name: 'bob',
      lines: ['hi alice', 'only Bluetooth'],
      hear: 2,
      print: (l) => console.log(`[bob] ${l}`),
    }),
  ])
  console.log(`done: alice heard ${JSON.stringify(heardByA)}, bob heard ${JSON.stringify(heardByB)}`)
} finally {
  await bt.stop()
}
