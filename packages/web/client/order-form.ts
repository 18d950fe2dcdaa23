/**
 * The order form's rows as typed, and the request body they make. Every rule of the API is
 * checked here before sending, all at once, with the server's own limits (ORDER_LIMITS, which
 * the API's schema is built from) and the same sentences (rules-in-words), so a person sees
 * every problem in one round and the server's 400 is a fallback.
 */
import type { OrderItem } from '@orders/contracts'
import { ORDER_LIMITS } from '@orders/contracts/order-limits'
import { ruleInWords, type BrokenRule, type NumberInWords } from '@orders/contracts/rules-in-words'
import { formatMoney, minorDigits, parseMoney } from './money.ts'

export interface ItemRow {
  /** Stable across edits and removals, for rendering. */
  key: number
  sku: string
  quantity: string
  unitPrice: string
}

export type FormErrors = Record<string, string>

export const FIELD_LABELS: Record<string, string> = { sku: 'SKU', quantity: 'Quantity', unit_price: 'Unit price', items: 'The order', currency: 'Currency' }

const SKU_PATTERN = new RegExp(ORDER_LIMITS.sku.pattern)
const sentence = (field: string, broken: BrokenRule, number?: NumberInWords) => `${ruleInWords(FIELD_LABELS[field] ?? field, broken, number)}.`

/** The limits as hints under the fields ("1 to 1000"). */
export function limitHints (currency: string): Record<'sku' | 'quantity' | 'unit_price', string> {
  const money = (n: number) => formatMoney(n, currency)
  return {
    sku: `Up to ${ORDER_LIMITS.sku.maxLength} letters, digits, '.', '_' or '-'.`,
    quantity: `A whole number from ${ORDER_LIMITS.quantity.minimum} to ${ORDER_LIMITS.quantity.maximum.toLocaleString()}.`,
    unit_price: `From ${money(ORDER_LIMITS.unit_price.minimum)} to ${money(ORDER_LIMITS.unit_price.maximum)}.`
  }
}

/** The items of the request, or every error by field ("items.0.quantity"). */
export function itemsFromRows (rows: readonly ItemRow[], currency: string): { items: OrderItem[] } | { errors: FormErrors } {
  const errors: FormErrors = {}
  const money: NumberInWords = n => formatMoney(n, currency)
  if (rows.length < ORDER_LIMITS.items.minItems) errors.items = sentence('items', { rule: 'minItems', limit: ORDER_LIMITS.items.minItems })
  if (rows.length > ORDER_LIMITS.items.maxItems) errors.items = sentence('items', { rule: 'maxItems', limit: ORDER_LIMITS.items.maxItems })
  const items = rows.map((row, i) => {
    const sku = row.sku.trim()
    const skuProblem = sku === ''
      ? { rule: 'required' as const }
      : sku.length > ORDER_LIMITS.sku.maxLength
        ? { rule: 'maxLength' as const, limit: ORDER_LIMITS.sku.maxLength }
        : SKU_PATTERN.test(sku) ? null : { rule: 'pattern' as const, pattern: ORDER_LIMITS.sku.pattern }
    if (skuProblem) errors[`items.${i}.sku`] = sentence('sku', skuProblem)

    const quantity = /^\s*-?\d+\s*$/.test(row.quantity) ? Number(row.quantity) : null
    const quantityProblem = row.quantity.trim() === ''
      ? { rule: 'required' as const }
      : quantity === null ? { rule: 'type' as const, type: 'integer' } : rangeProblem(quantity, ORDER_LIMITS.quantity)
    if (quantityProblem) errors[`items.${i}.quantity`] = sentence('quantity', quantityProblem)

    const unitPrice = parseMoney(row.unitPrice, currency)
    const example = minorDigits(currency) === 0 ? '500' : '4.99'
    if (row.unitPrice.trim() === '') errors[`items.${i}.unit_price`] = sentence('unit_price', { rule: 'required' })
    else if (unitPrice === null) errors[`items.${i}.unit_price`] = sentence('unit_price', { rule: 'other', text: `must be an amount like ${example}` })
    else {
      const priceProblem = rangeProblem(unitPrice, ORDER_LIMITS.unit_price)
      if (priceProblem) errors[`items.${i}.unit_price`] = sentence('unit_price', priceProblem, money)
    }
    return { sku, quantity: quantity ?? 0, unit_price: unitPrice ?? 0 }
  })
  return Object.keys(errors).length > 0 ? { errors } : { items }
}

function rangeProblem (value: number, limits: { minimum: number, maximum: number }): BrokenRule | null {
  if (value < limits.minimum) return { rule: 'minimum', limit: limits.minimum }
  if (value > limits.maximum) return { rule: 'maximum', limit: limits.maximum }
  return null
}

/** The total of the rows that can be read so far and are within the limits (minor units). */
export function runningTotal (rows: readonly ItemRow[], currency: string): number {
  let total = 0
  for (const row of rows) {
    const unitPrice = parseMoney(row.unitPrice, currency)
    const quantity = /^\s*\d+\s*$/.test(row.quantity) ? Number(row.quantity) : null
    if (quantity === null || unitPrice === null) continue
    // A row outside the limits would be refused: it must not inflate the total meanwhile.
    if (rangeProblem(quantity, ORDER_LIMITS.quantity) || rangeProblem(unitPrice, ORDER_LIMITS.unit_price)) continue
    total += quantity * unitPrice
  }
  return total
}

/** An Idempotency-Key: the same submission sent twice (double click, retry) places one order. */
export function newIdempotencyKey (): string {
  // getRandomValues, unlike randomUUID, also works on plain http from another host.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('')
}
