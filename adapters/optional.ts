import { CarrierError } from '../src/transport.js'

export class MissingDependencyError extends CarrierError {
  constructor(pkg: string, purpose: string, cause?: unknown) {
    super('ERR_MISSING_DEPENDENCY', `${purpose} needs the package "${pkg}": npm install ${pkg}`, { cause })
  }
}

/** Imports an adapter's optional dependency, or says in one line which package to install. */
export async function loadOptional<T>(pkg: string, purpose: string): Promise<T> {
  try {
    return (await import(pkg)) as T
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new MissingDependencyError(pkg, purpose, err)
    throw err
  }
}
