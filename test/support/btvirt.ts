import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { stopChild } from './child.js'
import { prerequisite } from './prerequisites.js'
import { buildShim } from './shim.js'

const BTVIRT = ['/usr/bin/btvirt', '/usr/lib/bluetooth/btvirt'].find(existsSync)

let available: boolean | undefined

/** btvirt and a C compiler for its shim are there (no prerequisite banner: for the demo). Checked once. */
export function btvirtAvailable(): boolean {
  available ??= BTVIRT !== undefined && commandExists('cc')
  return available
}

export function haveBtvirt(): boolean {
  return prerequisite(
    'BlueZ btvirt (emulated Bluetooth controllers) and a C compiler',
    btvirtAvailable(),
    'apt-get install bluez-test-tools gcc (bash .ci/run does it)',
  )
}

function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * One btvirt process serving emulated LE controllers on a private socket folder: every connection
 * to `socket` is a new controller on the same emulated radio. `hci` is the transport spec for a stack.
 */
export class Btvirt {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly log: () => string,
  ) {}

  get socket(): string {
    return join(this.dir, 'bt-server-le')
  }

  get hci(): string {
    return `unix:${this.socket}`
  }

  static async start(): Promise<Btvirt> {
    // a short path: unix socket paths are limited to 108 bytes
    const dir = mkdtempSync('/tmp/carrier-bt-')
    const proc = spawn(BTVIRT as string, ['-s', '-l0'], {
      env: { ...process.env, LD_PRELOAD: buildShim('btvirt-shim'), CARRIER_BTVIRT_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    proc.stdout?.on('data', (d) => (log += d))
    proc.stderr?.on('data', (d) => (log += d))
    const started = Date.now()
    while (!existsSync(join(dir, 'bt-server-le'))) {
      if (proc.exitCode !== null) throw new Error(`btvirt exited ${proc.exitCode}: ${log}`)
      if (Date.now() - started > 10_000) throw new Error(`btvirt did not create its sockets: ${log}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    return new Btvirt(proc, dir, () => log)
  }

  async stop(): Promise<void> {
    await stopChild(this.proc)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
