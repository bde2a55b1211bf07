import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './mosquitto.js'
import { prerequisite } from './prerequisites.js'

const run = promisify(execFile)
export const PG_BIN = '/usr/lib/postgresql/15/bin'
const asRoot = process.getuid?.() === 0

function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  const f = line?.split(':')
  return f ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined
}

export function havePostgres(): boolean {
  const ok = existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl')) && (!asRoot || postgresUser() !== undefined)
  return prerequisite('PostgreSQL 15 server', ok, 'apt-get install postgresql (bash .ci/run does it)')
}

/**
 * A real PostgreSQL 15 server of the test's own: its own data directory, socket directory and
 * loopback port, trust authentication for user postgres. The server refuses to run as root, so as
 * root its commands run as the postgres user.
 */
export class PostgresServer {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-pg-'))
    for (const d of ['data', 'sock']) mkdirSync(join(dir, d))
    const user = asRoot ? postgresUser() : undefined
    if (user) for (const d of ['', 'data', 'sock']) chownSync(join(dir, d), user.uid, user.gid)
    const server = new PostgresServer(dir, await freePort())
    await server.pg('initdb', '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync')
    await server.startServer()
    return server
  }

  /** A connection URI to the server's `postgres` database. */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`
  }

  async startServer(): Promise<void> {
    const options = `-p ${this.port} -k ${join(this.dir, 'sock')} -c listen_addresses=127.0.0.1 -c max_connections=200`
    await this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', 'start')
  }

  /** `pg_ctl -m immediate stop`: the server dies without a checkpoint, as in a crash. */
  async crash(): Promise<void> {
    await this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop')
  }

  async stop(): Promise<void> {
    try {
      await this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop')
    } catch {
      // already stopped (a test crashed it and did not restart it)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  log(): string {
    const f = join(this.dir, 'log')
    return existsSync(f) ? readFileSync(f, 'utf8') : ''
  }

  private async pg(cmd: string, ...args: string[]): Promise<void> {
    const bin = join(PG_BIN, cmd)
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
    try {
      await run(file, argv, { cwd: this.dir, timeout: 60_000 })
    } catch (err) {
      throw new Error(`${cmd} failed: ${(err as { stderr?: string }).stderr ?? err}\n${this.log()}`)
    }
  }
}
