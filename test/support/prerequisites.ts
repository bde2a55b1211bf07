/**
 * Suites that need a system package or hardware call this at collection time. Missing: a loud
 * warning and the suite is skipped — except with CI=true, where it is a failure.
 */
export function prerequisite(name: string, available: boolean, howToGet: string): boolean {
  if (available) return true
  const message = `MISSING PREREQUISITE: ${name} — ${howToGet}`
  if (isCI()) throw new Error(`${message} (CI=true: failing instead of skipping)`)
  console.warn(`\n${'!'.repeat(80)}\n${message}\nThe suites that need it are SKIPPED.\n${'!'.repeat(80)}\n`)
  return false
}

export function isCI(): boolean {
  const v = process.env.CI
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}
