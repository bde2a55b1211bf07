/** Polls `cond` every 2 ms; throws when it has not held within `ms`. */
export async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 2))
  }
}
