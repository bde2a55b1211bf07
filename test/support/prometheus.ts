import { createRequire } from 'node:module'

export interface PromSample {
  labels?: Record<string, string>
  value?: string
  buckets?: Record<string, string>
  count?: string
  sum?: string
}
export interface PromFamily {
  name: string
  help: string
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  metrics: PromSample[]
}

/** The Prometheus text exposition format, parsed by parse-prometheus-text-format (not by prom-client, which wrote it). */
export const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[]

/** The value of one sample (a counter or gauge; a histogram's count) whose labels include `labels`. */
export function sample(families: PromFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.find((f) => f.name === name)
  const hit = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  if (!hit) return undefined
  return Number(hit.value ?? hit.count)
}
