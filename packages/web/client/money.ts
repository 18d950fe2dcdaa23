/**
 * Amounts are integers of minor units (cents) everywhere in the API; people type and read
 * them as decimals. Converting by string keeps 4.99 exactly 499 (no floating point on the way).
 */

/** "4.99" → 499, "5" → 500, "0.5" → 50; null for anything that is not a plain amount. */
export function parseMoney (text: string): number | null {
  const match = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(text)
  if (match === null) return null
  const [, whole = '0', fraction = ''] = match
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'))
}

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** 1597 → "15.97", 10000001 → "100,000.01". */
export function formatMoney (minorUnits: number): string {
  const sign = minorUnits < 0 ? '-' : ''
  const absolute = Math.abs(Math.trunc(minorUnits))
  const cents = String(absolute % 100).padStart(2, '0')
  return `${sign}${grouping.format(Math.floor(absolute / 100))}.${cents}`
}
