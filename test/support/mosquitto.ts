import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { join } from 'node:path'
import { prerequisite } from './prerequisites.js'
import { tempDir } from './temp.js'

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => spawnSync(p, ['-h']).status !== null)

export function haveMosquitto(): boolean {
  return prerequisite('mosquitto', MOSQUITTO !== undefined, 'apt-get install mosquitto (bash .ci/run does it)')
}

export function haveOpenssl(): boolean {
  return prerequisite('openssl', spawnSync('openssl', ['version']).status === 0, 'apt-get install openssl')
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface MosquittoOptions {
  /** max_packet_size of the listener. */
  maxPacketSize?: number
  /** Refuse clients without credentials (plain listener, no password file: everyone is refused). */
  refuseAnonymous?: boolean
  /** TLS listener with client certificates (CN = username) and a per-user ACL. */
  tls?: { ca: string; cert: string; key: string; acl: string }
}

/** A mosquitto process started by the test from its own config file, on a free loopback port. */
export class Mosquitto {
  private proc: ChildProcess | undefined
  readonly dir: string
  log = ''

  private constructor(
    readonly port: number,
    readonly config: string,
    dir: string,
  ) {
    this.dir = dir
  }

  static async start(o: MosquittoOptions = {}): Promise<Mosquitto> {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed')
    const dir = tempDir('carrier-mosq-')
    const port = await freePort()
    const lines = [
      `listener ${port} 127.0.0.1`,
      'set_tcp_nodelay true',
      'persistence false',
      'max_inflight_messages 64',
      'max_queued_messages 10000',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...(o.maxPacketSize ? [`max_packet_size ${o.maxPacketSize}`] : []),
    ]
    if (o.tls) {
      const files = { ca: 'ca.pem', cert: 'server.pem', key: 'server.key', acl: 'acl' }
      for (const [k, name] of Object.entries(files)) writeFileSync(join(dir, name), o.tls[k as keyof typeof files])
      lines.push(
        `cafile ${join(dir, 'ca.pem')}`,
        `certfile ${join(dir, 'server.pem')}`,
        `keyfile ${join(dir, 'server.key')}`,
        'require_certificate true',
        'use_identity_as_username true',
        `acl_file ${join(dir, 'acl')}`,
        'allow_anonymous false',
      )
    } else {
      lines.push(`allow_anonymous ${o.refuseAnonymous ? 'false' : 'true'}`)
    }
    const config = join(dir, 'mosquitto.conf')
    writeFileSync(config, `${lines.join('\n')}\n`)
    const m = new Mosquitto(port, config, dir)
    await m.startProcess()
    return m
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.port}`
  }

  async startProcess(): Promise<void> {
    const proc = spawn(MOSQUITTO as string, ['-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    proc.stderr?.on('data', (d) => (this.log += d))
    proc.stdout?.on('data', (d) => (this.log += d))
    const start = Date.now()
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${this.log}`)
      if (await canConnect(this.port)) return
      if (Date.now() - start > 10_000) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    const p = this.proc
    if (!p || p.exitCode !== null) return
    const exited = new Promise((r) => p.once('exit', r))
    p.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    await this.kill()
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** A CA, a server certificate for 127.0.0.1, and client certificates whose CN is the username. */
export function makeCertificates(dir: string, clients: string[]): Record<string, string> {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const selfSigned = (name: string, cn: string) =>
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    )
  selfSigned('ca', 'carrier-test-ca')
  const issue = (name: string, cn: string, ext?: string) => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    if (ext) writeFileSync(join(dir, `${name}.ext`), ext)
    const extArgs = ext ? ['-extfile', `${name}.ext`] : []
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      ...extArgs,
    )
  }
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\n')
  for (const c of clients) issue(c, c)
  // a certificate from another CA, which the broker must refuse
  selfSigned('intruder', 'intruder')
  const read = (f: string) => readFileSync(join(dir, f), 'utf8')
  const out: Record<string, string> = {}
  for (const f of [
    'ca.pem',
    'server.pem',
    'server.key',
    'intruder.pem',
    'intruder.key',
    ...clients.flatMap((c) => [`${c}.pem`, `${c}.key`]),
  ]) {
    out[f] = read(f)
  }
  return out
}
