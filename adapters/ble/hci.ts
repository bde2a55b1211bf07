import { CarrierError } from '../../src/transport.js'
import { loadOptional } from '../optional.js'
import { UnixHciSocket } from './unix-hci-socket.js'

/** Environment variable naming the HCI transport when no option does (same syntax as `--hci`). */
export const HCI_ENV = 'CARRIER_BLE_HCI'

/**
 * Where the Bluetooth controller is:
 * - `hci:N` (or `hciN`): the kernel's HCI device N (Linux; needs CAP_NET_RAW/CAP_NET_ADMIN or root),
 * - `uart:PATH[@BAUD]`: a controller speaking H4 on a serial port (default 1000000 baud),
 * - `unix:PATH`: H4 over a unix stream socket, e.g. BlueZ's emulator `btvirt -s`.
 */
export type HciSpec =
  | { kind: 'hci'; deviceId: number }
  | { kind: 'uart'; port: string; baudRate?: number }
  | { kind: 'unix'; path: string }

export class BleUnavailableError extends CarrierError {}

export class InvalidHciSpecError extends CarrierError {
  constructor(spec: string) {
    super('ERR_INVALID_HCI', `not an HCI transport: "${spec}" (hci:N, uart:PATH[@BAUD] or unix:PATH)`)
  }
}

export function parseHci(spec: string): HciSpec {
  const bare = /^hci(\d+)$/.exec(spec.trim()) // hciconfig's name for it
  if (bare) return { kind: 'hci', deviceId: Number(bare[1]) }
  const m = /^(hci|uart|unix):(.+)$/.exec(spec.trim())
  if (!m) throw new InvalidHciSpecError(spec)
  const [, kind, rest] = m as unknown as [string, string, string]
  if (kind === 'hci') {
    if (!/^\d+$/.test(rest)) throw new InvalidHciSpecError(spec)
    return { kind, deviceId: Number(rest) }
  }
  if (kind === 'uart') {
    const at = /^(.+?)@(\d+)$/.exec(rest)
    return at ? { kind, port: at[1] as string, baudRate: Number(at[2]) } : { kind, port: rest }
  }
  return { kind: 'unix', path: rest }
}

/** The option, else $CARRIER_BLE_HCI, else the platform default (undefined). */
export function resolveHci(spec?: string | HciSpec): HciSpec | undefined {
  if (spec !== undefined && typeof spec !== 'string') return spec
  const s = spec ?? process.env[HCI_ENV]
  return s ? parseHci(s) : undefined
}

/** The noble/bleno stack as we use it; @stoprocent and @abandonware forks both fit. */
// biome-ignore lint/suspicious/noExplicitAny: the stacks are untyped JavaScript event emitters
export type Stack = any

/**
 * Makes a noble or bleno instance for the transport. With `unix:` the stack's HCI socket is
 * replaced by ours before the stack opens it (the stacks create their HCI object lazily, so the
 * replacement is installed on the bindings object itself).
 */
export async function createStack(which: 'noble' | 'bleno', spec?: string | HciSpec): Promise<Stack> {
  const pkg = `@stoprocent/${which}`
  const mod = await loadOptional<{ default?: Stack; withBindings?: Stack }>(
    pkg,
    which === 'noble' ? 'Bluetooth LE central' : 'Bluetooth LE peripheral',
  )
  const withBindings = mod.withBindings ?? mod.default?.withBindings
  const hci = resolveHci(spec)
  if (!hci) return withBindings('default')
  if (hci.kind === 'hci') return withBindings('hci', { hciDriver: 'native', deviceId: hci.deviceId })
  if (hci.kind === 'uart')
    return withBindings('hci', {
      hciDriver: 'uart',
      bindParams: { uart: { port: hci.port, ...(hci.baudRate ? { baudRate: hci.baudRate } : {}) } },
    })
  const stack = withBindings('hci', { hciDriver: 'uart' })
  attachHciSocket(stack, new UnixHciSocket(hci.path))
  return stack
}

/** Puts `socket` under a noble/bleno instance (also an injected @abandonware one) before it starts. */
export function attachHciSocket(stack: Stack, socket: unknown): void {
  const bindings = stack._bindings
  if (!bindings) throw new Error('attachHciSocket: not a noble/bleno instance with HCI bindings')
  let hci = bindings._hci
  if (hci) hci._socket = socket
  Object.defineProperty(bindings, '_hci', {
    configurable: true,
    get: () => hci,
    set: (v) => {
      if (v) v._socket = socket
      hci = v
    },
  })
}

/** Resolves when the adapter is powered on; a clear typed error when it cannot be. */
export function waitPoweredOn(stack: Stack, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (state: string) => {
      if (state === 'poweredOn') return done()
      if (state === 'unsupported')
        return done(
          new BleUnavailableError(
            'ERR_BLE_NO_ADAPTER',
            'no usable Bluetooth LE adapter (pick one with --hci or CARRIER_BLE_HCI: hci:N, uart:PATH, unix:PATH)',
          ),
        )
      if (state === 'unauthorized')
        return done(
          new BleUnavailableError(
            'ERR_BLE_PERMISSION',
            'no permission to use the Bluetooth adapter: run as root or `sudo setcap cap_net_raw,cap_net_admin+eip $(which node)`',
          ),
        )
    }
    const timer = setTimeout(
      () =>
        done(
          new BleUnavailableError(
            stack.state === 'poweredOff' ? 'ERR_BLE_POWERED_OFF' : 'ERR_BLE_NO_ADAPTER',
            stack.state === 'poweredOff'
              ? 'the Bluetooth adapter is powered off: turn it on (e.g. `bluetoothctl power on`)'
              : `the Bluetooth adapter did not come up in ${timeoutMs} ms (state: ${stack.state})`,
          ),
        ),
      timeoutMs,
    )
    const done = (err?: Error) => {
      clearTimeout(timer)
      stack.removeListener('stateChange', settle)
      err ? reject(err) : resolve()
    }
    stack.on('stateChange', settle)
    if (stack.state) settle(stack.state)
  })
}
