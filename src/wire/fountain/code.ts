/**
 * A systematic random linear fountain code over GF(2). Symbols 0..K-1 are the source blocks;
 * symbol i ≥ K is the XOR of the blocks whose bits are set in coefficients(tid, i, K), a dense
 * pseudo-random vector seeded by the transfer id and symbol id, so nothing but the id travels.
 * Any K linearly independent symbols decode; K + m random symbols are independent with
 * probability ≈ 1 - 2^-m, whichever symbols were lost and whenever the receiver joined.
 */

export function blockCount(total: number, symbolSize: number): number {
  return Math.max(1, Math.ceil(total / symbolSize))
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/** The coefficient bit vector of a repair symbol (id ≥ K) as ceil(K/32) words. Part of the wire format. */
export function coefficients(tid: number, symbolId: number, k: number): Uint32Array {
  const words = Math.ceil(k / 32)
  const out = new Uint32Array(words)
  // splitmix32 seeded by both ids
  let state = mix32(tid ^ mix32(symbolId + 0x9e3779b9)) | 0
  for (let w = 0; w < words; w++) {
    state = (state + 0x9e3779b9) | 0
    let z = state ^ (state >>> 16)
    z = Math.imul(z, 0x21f0aaad)
    z ^= z >>> 15
    z = Math.imul(z, 0x735a2d97)
    out[w] = (z ^ (z >>> 15)) >>> 0
  }
  const tail = k % 32
  if (tail !== 0) out[words - 1] = (out[words - 1] as number) & (((1 << tail) - 1) >>> 0)
  if (out.every((w) => w === 0)) out[Math.floor((symbolId % k) / 32)] = 1 << ((symbolId % k) % 32)
  return out
}

function paddedWords(symbolSize: number): number {
  return Math.ceil(symbolSize / 4)
}

export class FountainEncoder {
  readonly k: number
  private readonly words: number
  private readonly blocks: Uint32Array

  constructor(
    stream: Uint8Array,
    readonly symbolSize: number,
    readonly tid: number,
  ) {
    this.k = blockCount(stream.length, symbolSize)
    this.words = paddedWords(symbolSize)
    this.blocks = new Uint32Array(this.k * this.words)
    const bytes = new Uint8Array(this.blocks.buffer)
    for (let i = 0; i < this.k; i++) {
      bytes.set(stream.subarray(i * symbolSize, Math.min((i + 1) * symbolSize, stream.length)), i * this.words * 4)
    }
  }

  symbol(id: number): Uint8Array {
    const W = this.words
    if (id < this.k) return new Uint8Array(this.blocks.buffer, id * W * 4, this.symbolSize)
    const acc = new Uint32Array(W)
    const coef = coefficients(this.tid, id, this.k)
    const blocks = this.blocks
    for (let w = 0; w < coef.length; w++) {
      let bits = coef[w] as number
      while (bits !== 0) {
        const low = bits & -bits
        const i = w * 32 + (31 - Math.clz32(low))
        bits ^= low
        const off = i * W
        for (let j = 0; j < W; j++) acc[j] = (acc[j] as number) ^ (blocks[off + j] as number)
      }
    }
    return new Uint8Array(acc.buffer, 0, this.symbolSize)
  }
}

/**
 * Incremental Gaussian elimination: each row is kept with its pivot at its lowest set bit, so an
 * arriving symbol is reduced by at most rank rows and either raises the rank or is discarded.
 * Back-substitution runs once, when the rank reaches K.
 */
export class FountainDecoder {
  readonly k: number
  private readonly cw: number
  private readonly dw: number
  private readonly coefRows: (Uint32Array | undefined)[]
  private readonly dataRows: (Uint32Array | undefined)[]
  rank = 0
  received = 0

  constructor(
    readonly total: number,
    readonly symbolSize: number,
    readonly tid: number,
  ) {
    this.k = blockCount(total, symbolSize)
    this.cw = Math.ceil(this.k / 32)
    this.dw = paddedWords(symbolSize)
    this.coefRows = new Array(this.k).fill(undefined)
    this.dataRows = new Array(this.k).fill(undefined)
  }

  get complete(): boolean {
    return this.rank === this.k
  }

  /** Adds a symbol; true when it raised the rank. */
  add(symbolId: number, payload: Uint8Array): boolean {
    this.received++
    if (this.complete || payload.length !== this.symbolSize) return false
    let coef: Uint32Array
    if (symbolId < this.k) {
      coef = new Uint32Array(this.cw)
      coef[symbolId >> 5] = 1 << (symbolId & 31)
    } else coef = coefficients(this.tid, symbolId, this.k)
    const data = new Uint32Array(this.dw)
    new Uint8Array(data.buffer).set(payload)
    const CW = this.cw
    const DW = this.dw
    let w = 0
    for (;;) {
      while (w < CW && coef[w] === 0) w++
      if (w === CW) return false
      const word = coef[w] as number
      const p = w * 32 + (31 - Math.clz32(word & -word))
      const rowCoef = this.coefRows[p]
      if (rowCoef === undefined) {
        this.coefRows[p] = coef
        this.dataRows[p] = data
        this.rank++
        return true
      }
      const rowData = this.dataRows[p] as Uint32Array
      for (let j = w; j < CW; j++) coef[j] = (coef[j] as number) ^ (rowCoef[j] as number)
      for (let j = 0; j < DW; j++) data[j] = (data[j] as number) ^ (rowData[j] as number)
    }
  }

  /** The decoded stream; only once complete. */
  result(): Uint8Array {
    if (!this.complete) throw new Error('fountain decoder is not complete')
    const K = this.k
    const DW = this.dw
    for (let p = K - 1; p >= 0; p--) {
      const coef = this.coefRows[p] as Uint32Array
      const data = this.dataRows[p] as Uint32Array
      // clear bits above the pivot using the already solved rows
      coef[p >> 5] = (coef[p >> 5] as number) & ~(1 << (p & 31))
      for (let w = p >> 5; w < coef.length; w++) {
        let bits = coef[w] as number
        while (bits !== 0) {
          const low = bits & -bits
          bits ^= low
          const q = w * 32 + (31 - Math.clz32(low))
          const solved = this.dataRows[q] as Uint32Array
          for (let j = 0; j < DW; j++) data[j] = (data[j] as number) ^ (solved[j] as number)
        }
        coef[w] = 0
      }
    }
    const out = new Uint8Array(this.total)
    for (let i = 0; i < K; i++) {
      const from = i * this.symbolSize
      const n = Math.min(this.symbolSize, this.total - from)
      out.set(new Uint8Array((this.dataRows[i] as Uint32Array).buffer, 0, n), from)
    }
    return out
  }
}
