/** The value below which `p` % of `sorted` lie (nearest rank); NaN for no values. */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export function median (values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50)
}

export function round (value: number, digits = 1): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
