import { randomUUID } from 'node:crypto'
import type { OrderCreatedV1 } from '@orders/contracts'

/** An order_created event as the order-service's outbox publishes it. */
export function orderCreated (total = 100): OrderCreatedV1 {
  const now = new Date().toISOString()
  return {
    type: 'order_created',
    version: 1,
    occurred_at: now,
    data: {
      order: {
        id: randomUUID(),
        user_id: randomUUID(),
        status: 'new',
        items: [{ sku: 'SKU-1', quantity: 1, unit_price: total }],
        total,
        failure_reason: null,
        created_at: now,
        updated_at: now
      }
    }
  }
}
