import { describe, expect, it } from 'vitest'
import { haveBtvirt } from './support/btvirt.js'
import { havePcscd } from './support/pcscd.js'
import { runTsx as run } from './support/run.js'

describe('the README stays true', () => {
  it('npm run demo moves every envelope byte-exact and prints the table', { timeout: 12 * 60_000 }, async () => {
    // the NFC row waits its turn for pcscd (one per machine) while the NFC suite holds it
    const r = await run(['examples/demo.ts'], 11 * 60_000)
    expect(r.code, r.stderr).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => /^(BLE|QR|NFC|MQTT).*\s(yes|NO)\s*$/.test(l))
    // BLE on the emulated controllers where btvirt is installed; else the memory link, said loudly
    // (and under CI=true a missing btvirt fails here instead of passing on the fallback)
    // NFC through pcscd + vpcd where installed (under CI=true a missing one fails here too)
    const nfc = havePcscd() ? ['NFC'] : []
    expect(rows.map((l) => l.split(' ')[0])).toEqual([haveBtvirt() ? 'BLE' : 'BLE-like', 'QR', ...nfc, 'MQTT'])
    for (const row of rows) expect(row.trim().endsWith('yes')).toBe(true)
  })

  it.skipIf(!haveBtvirt())('examples/ble-chat: two ends chat authcrypted over emulated Bluetooth', async () => {
    const r = await run(['examples/ble-chat/run.ts'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('done: alice heard ["hi alice","only Bluetooth"], bob heard ["hi bob","no network here"]')
  })

  it('examples/qr-handoff: a file through PNG codes with a third lost, SHA-256 matching', async () => {
    const r = await run(['examples/qr-handoff/run.ts'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/camera: 40042 bytes decoded, SHA-256 matches/)
  })

  it.skipIf(!havePcscd())(
    'examples/nfc-tap: a reader sends to the phone applet through pcscd + vpcd, which answers',
    {
      timeout: 12 * 60_000,
    },
    async () => {
      const r = await run(['examples/nfc-tap/run.ts'], 11 * 60_000)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain('phone: received 10050 bytes (application/didcomm-encrypted+json)')
      expect(r.stdout).toMatch(/reader: 10050 bytes delivered in \d+ ms, receipt confirmed: true/)
      expect(r.stdout).toContain('reader: the phone answered {"receipt":10050}')
    },
  )

  it('examples/mqtt-iot-bridge runs a device and an agent through a broker', async () => {
    const r = await run(['examples/mqtt-iot-bridge/run.ts', '--readings', '4'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.match(/agent: reading-\d/g)).toHaveLength(4)
    expect(r.stdout).toMatch(/agent: sent cmd-3/)
    expect(r.stdout).toMatch(/done: 4 readings/)
  })

  it('examples/mediator: a message waits for an offline phone, the answer reaches the sensor on MQTT', async () => {
    const r = await run(['examples/mediator/run.ts'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('mediator: 1 message waiting for the phone')
    expect(r.stdout).toContain('phone: "temperature 21.5 C" from the sensor')
    expect(r.stdout).toContain('sensor: "thanks" from the phone, live over MQTT')
    expect(r.stdout).toContain('done: queue empty = true')
  })
})
