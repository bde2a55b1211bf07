import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stopChild } from './child.js'
import { freePort } from './mosquitto.js'
import { isCI, prerequisite } from './prerequisites.js'
import { buildShim } from './shim.js'

const PCSCD = '/usr/sbin/pcscd'
const VPCD_DRIVER = ['/usr/lib/pcsc/drivers/serial/libifdvpcd.so', '/usr/lib/pcsc/drivers/serial/libifdvpcd.so.0.8'].find(
  existsSync,
)
const SOCKET = '/run/pcscd/pcscd.comm'

export function havePcscd(): boolean {
  return prerequisite(
    'pcscd + vpcd',
    existsSync(PCSCD) && VPCD_DRIVER !== undefined,
    'apt-get install pcscd libpcsclite-dev vsmartcard-vpcd (bash .ci/run does it)',
  )
}

/**
 * A pcscd socket left behind is removed; a running system pcscd (say, started by the package's
 * install) is stopped under CI=true — there can be only one — and is an error elsewhere.
 */
async function clearOtherPcscd(): Promise<void> {
  const running = spawnSync('pgrep', ['-x', 'pcscd']).status === 0
  if (!running) {
    rmSync(SOCKET, { force: true })
    return
  }
  if (!isCI())
    throw new Error(
      `another pcscd is running (${SOCKET}); stop it (e.g. systemctl stop pcscd.socket pcscd) to run the NFC suites`,
    )
  spawnSync('pkill', ['-x', 'pcscd'])
  for (let i = 0; i < 50 && existsSync(SOCKET); i++) await new Promise((r) => setTimeout(r, 100))
  rmSync(SOCKET, { force: true })
}

/**
 * pcscd in the foreground, with its own reader.conf.d holding one vpcd reader on a free port
 * ("Virtual PCD 00 00"), and the TCP_NODELAY shim preloaded. pcscd's client socket path is fixed, so
 * one runs per machine: the NFC suites live in one test file.
 */
export class Pcscd {
  private constructor(
    private readonly proc: ChildProcess,
    readonly vpcdPort: number,
    private readonly dir: string,
    readonly log: () => string,
  ) {}

  static async start(o: { nodelay?: boolean } = {}): Promise<Pcscd> {
    if (existsSync(SOCKET)) await clearOtherPcscd()
    const dir = mkdtempSync(join(tmpdir(), 'carrier-pcscd-'))
    const port = await freePort()
    writeFileSync(
      join(dir, 'vpcd'),
      `FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x${port.toString(16)}\nLIBPATH ${VPCD_DRIVER}\nCHANNELID 0x${port.toString(16)}\n`,
    )
    const env = { ...process.env }
    if (o.nodelay !== false) env.LD_PRELOAD = buildShim('nodelay-shim')
    const proc = spawn(PCSCD, ['-f', '-c', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    proc.stdout?.on('data', (d) => (log += d))
    proc.stderr?.on('data', (d) => (log += d))
    const started = Date.now()
    while (!existsSync(SOCKET)) {
      if (proc.exitCode !== null) throw new Error(`pcscd exited ${proc.exitCode}: ${log}`)
      if (Date.now() - started > 10_000) throw new Error(`pcscd did not create ${SOCKET}: ${log}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    // vpcd listens once the reader is loaded; give it the moment (never probe the port: any connection is a card)
    await new Promise((r) => setTimeout(r, 300))
    return new Pcscd(proc, port, dir, () => log)
  }

  async stop(): Promise<void> {
    await stopChild(this.proc)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
