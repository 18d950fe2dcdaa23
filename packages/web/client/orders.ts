import type { FailureReason, Order, OrderStatus } from '@orders/contracts'
import { CANCEL_REFUSED } from './api-errors.ts'

/** What a status badge says. A Record, so a status added to the contract must be named here. */
export const STATUS_LABELS: Record<OrderStatus, string> = {
  new: 'New',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled'
}

export const FAILURE_REASON_TEXT: Record<FailureReason, string> = {
  payment_declined: 'Payment declined: the total is above the payment limit.'
}

/** Only a new order can be cancelled: once the processor has taken it, the API answers 409. */
export function canCancel (order: Pick<Order, 'status'>): boolean {
  return order.status === 'new'
}

/**
 * Why a cancel was refused (409), by the status the order turned out to have when read again.
 * A Record, so a status added to the contract must be given its sentence here.
 */
const CANCEL_REFUSALS: Record<OrderStatus, string> = {
  // Refused, yet new when read again: the API and this page disagree only for a moment.
  new: CANCEL_REFUSED,
  processing: CANCEL_REFUSED,
  completed: 'This order can no longer be cancelled: it has already been completed.',
  failed: 'This order can no longer be cancelled: it has already been processed.',
  cancelled: 'This order is already cancelled.'
}

export function cancelRefusal (status: OrderStatus): string {
  return CANCEL_REFUSALS[status]
}

/** "BOOK-42 × 3, PEN × 1", the first few lines of an order, then "and 4 more". */
export function itemSummary (items: Order['items'], shown = 3): string {
  const lines = items.slice(0, shown).map(item => `${item.sku} × ${item.quantity}`)
  const rest = items.length - shown
  return rest > 0 ? `${lines.join(', ')} and ${rest} more` : lines.join(', ')
}

/** Whole seconds left until `until` (rounded up, so 0 only once it has passed). */
export function secondsLeft (until: string, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(until) - now) / 1000))
}

/** The first block of the UUID: enough for a person to tell their orders apart. */
export function shortOrderId (id: string): string {
  return id.slice(0, 8)
}

/**
 * The later of two versions of one order. A WebSocket message and a GET /orders answer can
 * arrive in either order; statuses only move forward, so the later `updated_at` wins.
 */
export function laterVersion (a: Order, b: Order): Order {
  return Date.parse(b.updated_at) > Date.parse(a.updated_at) ? b : a
}

/** The API's order of GET /orders: newest first, by (created_at, id) descending. */
function newestFirst (a: Order, b: Order): number {
  const byTime = Date.parse(b.created_at) - Date.parse(a.created_at)
  return byTime !== 0 ? byTime : b.id < a.id ? -1 : b.id > a.id ? 1 : 0
}

export interface OrderList {
  orders: Order[]
  /** null once the oldest order is loaded. */
  nextCursor: string | null
}

/**
 * An order heard of live. A known one is updated; an unknown one (placed in another tab, or
 * before the first page arrived) is added only where it belongs among the loaded orders, so
 * "Load more" still continues from the right place.
 */
export function applyOrderUpdate (list: OrderList, order: Order, statusFilter: OrderStatus | null = null): OrderList {
  const index = list.orders.findIndex(o => o.id === order.id)
  // A list of one status: an order shown stays (its badge says it moved on), another is added
  // only when it has that status.
  if (index < 0 && statusFilter !== null && order.status !== statusFilter) return list
  if (index >= 0) {
    const current = list.orders[index]!
    const next = laterVersion(current, order)
    if (next === current) return list
    return { ...list, orders: list.orders.map(o => (o === current ? next : o)) }
  }
  const oldest = list.orders.at(-1)
  const withinLoaded = list.nextCursor === null || (oldest !== undefined && newestFirst(order, oldest) <= 0)
  if (!withinLoaded) return list
  return { ...list, orders: [...list.orders, order].sort(newestFirst) }
}

/** The next page appended (orders already shown, e.g. heard of live, are not repeated). */
export function appendPage (list: OrderList, page: OrderList): OrderList {
  const fetched = new Map(page.orders.map(o => [o.id, o]))
  const shown = new Set(list.orders.map(o => o.id))
  return {
    orders: [
      ...list.orders.map(o => { const f = fetched.get(o.id); return f ? laterVersion(o, f) : o }),
      ...page.orders.filter(o => !shown.has(o.id))
    ],
    nextCursor: page.nextCursor
  }
}

/**
 * After a (re)connect: `fresh` is the newest orders as the API has them now. They replace
 * what is shown (unless a live message was newer); older orders loaded earlier stay, so the
 * person keeps their place in a long list.
 */
export function resynchronise (list: OrderList, fresh: OrderList): OrderList {
  const known = new Map(list.orders.map(o => [o.id, o]))
  const head = fresh.orders.map(o => { const k = known.get(o.id); return k ? laterVersion(k, o) : o })
  const oldestFresh = fresh.orders.at(-1)
  if (fresh.nextCursor === null || oldestFresh === undefined) return { orders: head, nextCursor: fresh.nextCursor }
  const tail = list.orders.filter(o => newestFirst(o, oldestFresh) > 0)
  // Only the loaded tail's own cursor can continue after it; without a tail, the fresh one.
  return { orders: [...head, ...tail], nextCursor: tail.length > 0 ? list.nextCursor : fresh.nextCursor }
}
