/**
 * The Identus SDK's storage is pluggable (`new SDK.Pluto(store, apollo)`): this is the whole of an
 * in-memory store for it — tables of rows with a uuid, queried by AND-ed selectors and $or.
 */
type Row = Record<string, unknown> & { uuid: string }
type Selector = Record<string, unknown> & { $or?: Selector[] }

function matches(row: Row, selector: Selector | undefined): boolean {
  if (!selector) return true
  return Object.entries(selector).every(([k, v]) => {
    if (k === '$or') return (v as Selector[]).some((s) => matches(row, s))
    if (v && typeof v === 'object' && Array.isArray((v as { $in?: unknown[] }).$in))
      return (v as { $in: unknown[] }).$in.includes(row[k])
    return row[k] === v
  })
}

export function memoryPlutoStore() {
  const tables = new Map<string, Row[]>()
  const table = (name: string) => {
    let t = tables.get(name)
    if (!t) {
      t = []
      tables.set(name, t)
    }
    return t
  }
  return {
    async query<T>(name: string, query?: { selector?: Selector }): Promise<T[]> {
      return table(name).filter((r) => matches(r, query?.selector)) as T[]
    },
    async insert<T>(name: string, model: T): Promise<void> {
      table(name).push({ ...(model as Row) })
    },
    async update<T>(name: string, model: T): Promise<void> {
      const t = table(name)
      const m = model as Row
      const i = t.findIndex((r) => r.uuid === m.uuid)
      if (i >= 0) t[i] = { ...m }
      else t.push({ ...m })
    },
    async delete(name: string, uuid: string): Promise<void> {
      tables.set(
        name,
        table(name).filter((r) => r.uuid !== uuid),
      )
    },
  }
}
