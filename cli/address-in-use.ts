import { CarrierError } from '../src/transport.js'

/** A server could not listen: its address is taken. The message names the flag that moves it. */
export class AddressInUseError extends CarrierError {
  constructor(message: string, cause?: unknown) {
    super('ERR_ADDRESS_IN_USE', message, { cause })
  }
}

/** The flag that picks each listening command's address. */
const FLAGS: Record<string, string> = {
  mediator: '--http [host]:port',
  web: '--port',
  broker: '--port',
  serve: '--port',
}

/** EADDRINUSE from a command's listen, said with the flag that changes the address; anything else as it was. */
export function addressInUse(err: unknown, argv: readonly string[]): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
  if (e?.code !== 'EADDRINUSE') return err
  const command = argv.find((a) => a in FLAGS)
  const where = e.port !== undefined ? `${e.address ?? ''}:${e.port}` : 'the address'
  const flag = command ? FLAGS[command] : undefined
  return new AddressInUseError(
    `${where} is in use (another server listens there)${flag ? `: pick another with ${flag}` : ''}`,
    err,
  )
}
