import { describe, expect, it } from 'vitest'
import { btvirtAvailable } from './support/btvirt.js'
import { runTsx as run } from './support/run.js'

describe('the README stays true', () => {
  it('npm run demo moves every envelope byte-exact and prints the table', async () => {
    const r = await run(['examples/demo.ts'])
    expect(r.code, r.stderr).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => /^(BLE|QR|MQTT).*\s(yes|NO)\s*$/.test(l))
    // BLE on the emulated controllers where btvirt is installed (CI), else the memory link
    expect(rows.map((l) => l.split(' ')[0])).toEqual([btvirtAvailable() ? 'BLE' : 'BLE-like', 'QR', 'MQTT'])
    for (const row of rows) expect(row.trim().endsWith('yes')).toBe(true)
  })

  it('examples/mqtt-iot-bridge runs a device and an agent through a broker', async () => {
    const r = await run(['examples/mqtt-iot-bridge/run.ts', '--readings', '4'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.match(/agent: reading-\d/g)).toHaveLength(4)
    expect(r.stdout).toMatch(/agent: sent cmd-3/)
    expect(r.stdout).toMatch(/done: 4 readings/)
  })
})
