/**
 * The limits of an order request, as plain data: the typebox schemas in order.ts are built from
 * them, and the web app (which must not carry typebox's builder) checks its form against the
 * same numbers and shows them as hints. No runtime imports, so `@orders/contracts/order-limits`
 * costs the app a few hundred bytes.
 */

/**
 * Why the bounds: a SKU fits a label; 1000 of one thing is a wholesale order; 100 rows keep a
 * request well under the 1 MiB body limit. Every array and string of a request body is bounded,
 * which also bounds the work of reporting all its errors at once (platform/validation.ts).
 */
export const ORDER_LIMITS = {
  items: { minItems: 1, maxItems: 100 },
  sku: { minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' },
  quantity: { minimum: 1, maximum: 1000 },
  // At least one minor unit: a line at 0 is a gift or a discount, which the shop decides, not
  // the customer's request; a client that sends 0 has made a mistake (400).
  unit_price: { minimum: 1, maximum: 100_000_000 },
  currency: { maxLength: 3, format: 'iso-4217' }
} as const

/** The currency of an order that names none (the order-service's DEFAULT_CURRENCY overrides it). */
export const DEFAULT_CURRENCY = 'EUR'

/** True for an ISO 4217 code the runtime knows (Intl's list: current codes, e.g. EUR, USD, JPY). */
export function isKnownCurrency (code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && knownCurrencies().has(code)
}

let currencies: Set<string> | undefined
function knownCurrencies (): Set<string> {
  currencies ??= new Set(Intl.supportedValuesOf('currency'))
  return currencies
}
