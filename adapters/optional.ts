import { CarrierError } from '../src/transport.js'

export class MissingDependencyError extends CarrierError {
  constructor(pkg: string, purpose: string, cause?: unknown, howToFix = `npm install ${pkg}`) {
    super('ERR_MISSING_DEPENDENCY', `${purpose} needs the package "${pkg}": ${howToFix}`, { cause })
  }
}

/** What to do when an optional package is installed but its native part did not build or load. */
const NATIVE_FIX: Record<string, string> = {
  'nfc-pcsc':
    'its native part (@pokusew/pcsclite) is not built: apt-get install libpcsclite-dev (pcsc-lite headers), then npm rebuild @pokusew/pcsclite',
  '@stoprocent/noble': 'its native part did not load: npm rebuild @stoprocent/noble (Linux: apt-get install libudev-dev)',
  '@stoprocent/bleno': 'its native part did not load: npm rebuild @stoprocent/bleno (Linux: apt-get install libudev-dev)',
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}

function isNativeFailure(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return (
    e.code === 'ERR_DLOPEN_FAILED' ||
    /Could not locate the bindings file|\.node\b|No native build was found|invalid ELF header/.test(e.message ?? '')
  )
}

/**
 * Imports an adapter's optional dependency, or says in one line which package to install — also
 * when the package is there but its native build is missing (npm skips a failed optional build
 * silently).
 */
export async function loadOptional<T>(
  pkg: string,
  purpose: string,
  load: (pkg: string) => Promise<unknown> = (p) => import(p),
): Promise<T> {
  try {
    return (await load(pkg)) as T
  } catch (err) {
    const message = (err as { message?: string }).message ?? ''
    if (isNotFound(err) && message.includes(pkg)) throw new MissingDependencyError(pkg, purpose, err)
    if (isNativeFailure(err) || isNotFound(err))
      throw new MissingDependencyError(pkg, purpose, err, NATIVE_FIX[pkg] ?? `its native part did not load: npm rebuild ${pkg}`)
    throw err
  }
}
