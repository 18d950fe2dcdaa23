import { randomUUID } from 'node:crypto'
import type { Order, OrderCreatedV1, OrderStatus } from '@orders/contracts'

/** An order as the order-service stores it: one item line whose price is the wanted total. */
export function anOrder (total: number, status: OrderStatus = 'new'): Order {
  const now = new Date().toISOString()
  return {
    id: randomUUID(),
    user_id: randomUUID(),
    status,
    items: [{ sku: 'SKU-1', quantity: 1, unit_price: total }],
    currency: 'EUR',
    total,
    failure_reason: null,
    cancellable_until: now,
    created_at: now,
    updated_at: now
  }
}

/** The event the order-service's outbox publishes for a new order. */
export function orderCreated (order: Order): OrderCreatedV1 {
  return {
    type: 'order_created',
    version: 1,
    occurred_at: order.created_at,
    data: { order: { ...order, status: 'new' } }
  }
}
