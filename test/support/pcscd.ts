import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createConnection } from 'node:net'
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

export const PCSCD_HOW_TO = 'apt-get install pcscd libpcsclite-dev vsmartcard-vpcd (bash .ci/run does it)'

/** pcscd and the vpcd driver are installed (quietly: the demo words its own note). */
export function pcscdInstalled(): boolean {
  return existsSync(PCSCD) && VPCD_DRIVER !== undefined
}

export function havePcscd(): boolean {
  return prerequisite('pcscd + vpcd', pcscdInstalled(), PCSCD_HOW_TO)
}

export const PCSCD_LOCK = join(tmpdir(), 'carrier-pcscd.lock')

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * pcscd's socket is one per machine, so whoever starts it — an NFC test file, the demo, the NFC
 * example, the bench — takes this lock first and the others wait their turn (vitest runs files in
 * parallel). The lock is a directory holding the owner's pid; a dead owner's lock is taken over.
 */
export async function lockPcscd(timeoutMs: number, lock = PCSCD_LOCK): Promise<void> {
  const started = Date.now()
  let told = false
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = Number.NaN
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'))
    } catch {
      // between the owner's mkdir and its write; or a lock left without a pid long ago
      const made = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0
      if (Date.now() - made > 5000) rmSync(lock, { recursive: true, force: true })
    }
    if (Number.isInteger(owner) && !alive(owner)) {
      rmSync(lock, { recursive: true, force: true })
      continue
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`pcscd is in use by process ${owner} (lock ${lock}) for over ${timeoutMs} ms`)
    if (!told) console.error(`waiting for pcscd: in use by process ${owner}`)
    told = true
    await new Promise((r) => setTimeout(r, 200))
  }
}

export function unlockPcscd(lock = PCSCD_LOCK): void {
  try {
    if (Number(readFileSync(join(lock, 'pid'), 'utf8')) === process.pid) rmSync(lock, { recursive: true, force: true })
  } catch {
    // not ours, or gone
  }
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
 * Process `pid` has a TCP socket listening on `port` (/proc/net/tcp{,6}: state 0A, its inode among
 * the process's fds). Never a connection to the port: vpcd takes any connection as a card.
 */
export function listensOn(pid: number, port: number): boolean {
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]?.split(':')[1] ?? '', 16) === port) inodes.add(f[9] as string)
    }
  }
  if (inodes.size === 0) return false
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m && inodes.has(m[1] as string)) return true
    } catch {
      // closed meanwhile
    }
  }
  return false
}

/** A unix socket takes a connection (between pcscd's bind and listen it is refused). */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * pcscd in the foreground, with its own reader.conf.d holding one vpcd reader on a free port
 * ("Virtual PCD 00 00"), and the TCP_NODELAY shim preloaded. pcscd's client socket path is fixed, so
 * one runs per machine: its users take turns through a lock (lockPcscd).
 */
export class Pcscd {
  private constructor(
    readonly proc: ChildProcess,
    readonly vpcdPort: number,
    readonly dir: string,
    readonly log: () => string,
  ) {}

  static async start(o: { nodelay?: boolean; lockTimeoutMs?: number } = {}): Promise<Pcscd> {
    await lockPcscd(o.lockTimeoutMs ?? 10 * 60_000)
    try {
      return await Pcscd.spawn(o)
    } catch (err) {
      unlockPcscd()
      throw err
    }
  }

  /**
   * vpcd's port comes from freePort(), and another process may bind it before pcscd's vpcd does
   * (seen: "Address already in use … Open Port 0x0 Failed", a pcscd with no reader at all). So the
   * port is checked to be pcscd's own listening socket, and a lost race is run again on another port.
   */
  private static async spawn(o: { nodelay?: boolean }): Promise<Pcscd> {
    for (let attempt = 1; ; attempt++) {
      const started = await Pcscd.spawnOnce(o)
      if (listensOn(started.proc.pid as number, started.vpcdPort)) return started
      const log = started.log()
      await stopChild(started.proc)
      rmSync(started.dir, { recursive: true, force: true })
      if (attempt === 5) throw new Error(`pcscd's vpcd reader did not start on 5 free ports: ${log}`)
    }
  }

  private static async spawnOnce(o: { nodelay?: boolean }): Promise<Pcscd> {
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
    // pcscd starts the readers of its reader.conf (vpcd binds its port) before it listens on its
    // socket (pcscdaemon.c: RFStartSerialReaders, then InitializeSocket): once the socket takes a
    // connection, the reader is there or failed (spawn checks which). pcscd gets there or exits;
    // no clock (it would only measure the machine's load).
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    while (!(existsSync(SOCKET) && (await accepts(SOCKET)))) {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`pcscd exited ${proc.exitCode ?? proc.signalCode}: ${log}`)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20))])
    }
    return new Pcscd(proc, port, dir, () => log)
  }

  async stop(): Promise<void> {
    await stopChild(this.proc)
    rmSync(this.dir, { recursive: true, force: true })
    unlockPcscd()
  }
}
