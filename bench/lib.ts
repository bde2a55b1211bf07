/** One JSON line per figure, with the baseline it is compared with in the same run. */
export interface Figure {
  name: string
  value: number
  unit: string
  baseline: { name: string; value: number }
  /**
   * value / baseline.value, unless given: a bench that alternates its runs with the baseline's
   * gives the median of the per-pair ratios, which a machine's changing load skews far less.
   */
  ratio?: number
  params?: Record<string, unknown>
}

export function emit(f: Figure): void {
  const ratio = f.ratio !== undefined ? round(f.ratio) : f.baseline.value === 0 ? null : round(f.value / f.baseline.value)
  console.log(JSON.stringify({ ...f, value: round(f.value), baseline: { ...f.baseline, value: round(f.baseline.value) }, ratio }))
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 10_000) / 10_000 : x
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}
