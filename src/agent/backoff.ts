export interface BackoffOptions {
  /** The first wait's cap, in ms. Default 250. */
  baseMs?: number
  /** The largest wait, in ms. Default 10 000. */
  maxMs?: number
  /** 0 ≤ x < 1; default Math.random. Tests pass a seeded source for a fixed sequence. */
  random?: () => number
}

/**
 * The wait before retry `attempt` (0, 1, …): capped exponential back-off with jitter, a random
 * delay between half and all of min(max, base · 2^attempt). Many clients of one dead mediator
 * instance then come back spread out, not all at once.
 */
export function backoffDelay(attempt: number, b: BackoffOptions = {}): number {
  const cap = Math.min(b.maxMs ?? 10_000, (b.baseMs ?? 250) * 2 ** Math.min(attempt, 30))
  return Math.round(cap / 2 + (b.random ?? Math.random)() * (cap / 2))
}
