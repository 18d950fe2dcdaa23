import type { ColumnType } from 'kysely'
import type { OutboxDatabase } from '@orders/outbox'
import type { FailureReason, OrderItem, OrderStatus } from '@orders/contracts'

/** The `orders` schema, owned by this service alone. */
export interface OrdersTable {
  id: ColumnType<string, string | undefined, never>
  user_id: string
  status: OrderStatus
  items: ColumnType<OrderItem[], string, string>
  currency: string
  total: number
  failure_reason: FailureReason | null
  cancellable_until: ColumnType<Date, Date, never>
  idempotency_key: string | null
  request_hash: string | null
  created_at: ColumnType<Date, Date | undefined, never>
  updated_at: ColumnType<Date, Date | undefined, Date>
}

export interface OrdersDatabase extends OutboxDatabase {
  orders: OrdersTable
}

export const ORDERS_SCHEMA = 'orders'
