/**
 * The order form's rows as typed, and the request body they make. Only what must be known
 * to build the request is checked here (a whole quantity, a price as money); the limits
 * (SKU characters, quantity and price ranges, number of rows) are the server's, and its
 * answer is shown at the field it names.
 */
import type { OrderItem } from '@orders/contracts'
import { parseMoney } from './money.ts'

export interface ItemRow {
  /** Stable across edits and removals, for rendering. */
  key: number
  sku: string
  quantity: string
  unitPrice: string
}

export type FormErrors = Record<string, string>

/** The items of the request, or the errors by field ("items.0.quantity"). */
export function itemsFromRows (rows: readonly ItemRow[]): { items: OrderItem[] } | { errors: FormErrors } {
  const errors: FormErrors = {}
  const items = rows.map((row, i) => {
    const quantity = /^\s*\d+\s*$/.test(row.quantity) ? Number(row.quantity) : null
    const unitPrice = parseMoney(row.unitPrice)
    if (quantity === null) errors[`items.${i}.quantity`] = row.quantity.trim() === '' ? 'Quantity is required.' : 'Quantity must be a whole number, like 3.'
    if (unitPrice === null) errors[`items.${i}.unit_price`] = row.unitPrice.trim() === '' ? 'Unit price is required.' : 'Unit price must be an amount like 4.99.'
    return { sku: row.sku.trim(), quantity: quantity ?? 0, unit_price: unitPrice ?? 0 }
  })
  return Object.keys(errors).length > 0 ? { errors } : { items }
}

/** The total of the rows that can be read so far (minor units). */
export function runningTotal (rows: readonly ItemRow[]): number {
  let total = 0
  for (const row of rows) {
    const unitPrice = parseMoney(row.unitPrice)
    if (/^\s*\d+\s*$/.test(row.quantity) && unitPrice !== null) total += Number(row.quantity) * unitPrice
  }
  return total
}

/** An Idempotency-Key: the same submission sent twice (double click, retry) places one order. */
export function newIdempotencyKey (): string {
  // getRandomValues, unlike randomUUID, also works on plain http from another host.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('')
}
