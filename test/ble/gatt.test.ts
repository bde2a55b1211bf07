import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BleCentralLink } from '../../adapters/ble/central.js'
import { BlePeripheralLink } from '../../adapters/ble/peripheral.js'
import { conformanceSuite } from '../../src/testing/conformance.js'
import { seededBytes } from '../../src/testing/prng.js'
import { createTransport } from '../../src/wire/create-transport.js'
import { haveBtvirt } from '../support/btvirt.js'
import { startCarrier } from '../support/run.js'
import { tempDir } from '../support/temp.js'
import { useBtvirt } from '../support/use-btvirt.js'
import { bleExchange, blePair } from './pair.js'

const available = haveBtvirt()

describe.skipIf(!available)('BLE GATT over the emulated controller (btvirt)', () => {
  const bt = useBtvirt()

  it('discovers, connects with ATT MTU 517 and moves 100 KB each way byte-exact', { timeout: 60_000 }, async () => {
    const pair = await blePair(bt.hci, { token: 'tok100' })
    try {
      expect(pair.central.negotiatedMtu).toBe(517)
      expect(pair.peripheral.negotiatedMtu).toBe(517)
      expect(pair.central.mtu).toBe(514)
      await bleExchange(pair, 100 * 1024)
    } finally {
      await pair.close()
    }
  })

  it('picks the peripheral advertising its invitation token among several', { timeout: 30_000 }, async () => {
    const others = [await BlePeripheralLink.start({ hci: bt.hci, token: 'other1' })]
    const pair = await blePair(bt.hci, { token: 'mine' })
    others.push(await BlePeripheralLink.start({ hci: bt.hci, token: 'other2' }))
    try {
      const seen: string[] = []
      for (const [i, o] of others.entries()) o.onFrame(() => seen.push(`other${i}`))
      const b = createTransport(pair.peripheral)
      const a = createTransport(pair.central)
      const inbox = b.receive()[Symbol.asyncIterator]()
      await a.send('{"protected":"p","ciphertext":"for the right peer"}')
      expect(new TextDecoder().decode((await inbox.next()).value?.data)).toContain('for the right peer')
      expect(seen).toEqual([])
      await a.close()
      await b.close()
    } finally {
      await pair.close()
      for (const o of others) await o.close()
    }
  })

  it('a receiver that stalls for 1 s mid-transfer (SIGSTOP) loses nothing', { timeout: 60_000 }, async () => {
    const dir = tempDir('carrier-ble-stall-')
    const rx = startCarrier('--json', 'ble', 'peripheral', '--hci', bt.hci, '--token', 'stall', '--out', dir, '--count', '1')
    const central = await BleCentralLink.connect({ hci: bt.hci, token: 'stall' })
    const a = createTransport(central)
    try {
      const data = seededBytes(200 * 1024, 5)
      let stalled: Promise<void> | undefined
      const report = await a.send(data, {
        onProgress: (p) => {
          if (stalled || p.sentBytes < p.totalBytes / 2) return
          process.kill(rx.pid, 'SIGSTOP')
          stalled = new Promise((r) =>
            setTimeout(() => {
              process.kill(rx.pid, 'SIGCONT')
              r()
            }, 1000),
          )
        },
      })
      await stalled
      expect(stalled).toBeDefined()
      expect(report.confirmed).toBe(true)
      expect(await rx.exited).toBe(0)
      const files = readdirSync(dir)
      expect(files).toHaveLength(1)
      expect(Buffer.compare(readFileSync(join(dir, files[0] as string)), Buffer.from(data))).toBe(0)
    } finally {
      rx.kill('SIGCONT')
      rx.kill()
      await a.close()
    }
  })

  // the link dropped at 50 % of a 200 KB transfer: hardware-tests/ble/ble.test.ts (runs here on the emulator too)

  it('carrier ble peripheral / central: a file there and its echo back, through the CLI', { timeout: 60_000 }, async () => {
    const dir = tempDir('carrier-ble-cli-')
    const file = join(dir, 'msg.json')
    writeFileSync(file, JSON.stringify({ protected: 'p', ciphertext: 'x'.repeat(20_000) }))
    const rx = startCarrier(
      '--json',
      'ble',
      'peripheral',
      '--hci',
      bt.hci,
      '--token',
      'cli',
      '--out',
      join(dir, 'in'),
      '--echo',
      '--count',
      '1',
    )
    const tx = startCarrier('--json', 'ble', 'central', file, '--hci', bt.hci, '--token', 'cli', '--out', join(dir, 'echo.json'))
    try {
      expect(await tx.exited, tx.stderr()).toBe(0)
      expect(JSON.parse(tx.stdout())).toMatchObject({ command: 'ble central', confirmed: true, mtu: 517, answerBytes: 20_033 })
      expect(await rx.exited, rx.stderr()).toBe(0)
      expect(readFileSync(join(dir, 'echo.json'), 'utf8')).toBe(readFileSync(file, 'utf8'))
      expect(readdirSync(join(dir, 'in'))).toEqual(['message-0001.json'])
    } finally {
      rx.kill()
      tx.kill()
    }
  })

  it('clear errors: no adapter on a missing controller, no peer within the scan time', { timeout: 30_000 }, async () => {
    await expect(BleCentralLink.connect({ hci: 'unix:/nonexistent/bt-server-le' })).rejects.toMatchObject({
      code: 'ERR_BLE_NO_ADAPTER',
    })
    await expect(BleCentralLink.connect({ hci: bt.hci, token: 'nobody', scanTimeoutMs: 500 })).rejects.toMatchObject({
      code: 'ERR_BLE_PEER_NOT_FOUND',
    })
    const r = startCarrier('ble', 'central', 'package.json', '--hci', 'bogus')
    expect(await r.exited).toBe(1)
    expect(r.stderr().trim()).toMatch(
      /^error: option '--hci <spec>' argument 'bogus' is invalid. Expected an HCI transport: hci:N/,
    )
  })
})

describe.skipIf(!available)('BLE conformance', () => {
  const bt = useBtvirt()
  let n = 0
  conformanceSuite(
    'BLE GATT (noble central ↔ bleno peripheral, emulated controllers)',
    async () => {
      const pair = await blePair(bt.hci, { token: `c${++n}` })
      return {
        a: pair.central,
        b: pair.peripheral,
        interrupt: async () => {
          pair.peripheral.disconnect()
          await new Promise((r) => setTimeout(r, 50))
          await pair.central.waitUp()
          await pair.peripheral.waitUp()
        },
        close: pair.close,
      }
    },
    { largeMessageBytes: 2 * 1024 * 1024 },
  )
})
