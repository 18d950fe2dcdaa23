/**
 * Amounts are integers of minor units of the order's currency everywhere in the API (cents of
 * EUR, yen of JPY); people type and read them as decimals in their own locale. Converting by
 * string keeps 4.99 exactly 499 (no floating point on the way).
 */

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY, 3 for KWD), from Intl. */
export function minorDigits (currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
}

/**
 * "4.99" → 499, "5" → 500, "0.5" → 50 (for a 2-digit currency); null for anything that is not a
 * plain amount with at most the currency's digits. A decimal comma is read like a point.
 */
export function parseMoney (text: string, currency = 'EUR'): number | null {
  const digits = minorDigits(currency)
  const match = /^\s*(\d{1,12})(?:[.,](\d+))?\s*$/.exec(text)
  if (match === null) return null
  const [, whole = '0', fraction = ''] = match
  if (fraction.length > digits || (match[2] !== undefined && digits === 0)) return null
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0')
}

const formats = new Map<string, Intl.NumberFormat>()

/** 1597 EUR → "€15.97" (en-US), "15,97 €" (de-DE); in the browser's locale unless one is given. */
export function formatMoney (minorUnits: number, currency: string, locale?: string): string {
  const key = `${locale ?? ''}|${currency}`
  let format = formats.get(key)
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency })
    formats.set(key, format)
  }
  return format.format(minorUnits / 10 ** minorDigits(currency))
}

/** What the order form offers; the API takes any ISO 4217 code. */
export const OFFERED_CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY'] as const
