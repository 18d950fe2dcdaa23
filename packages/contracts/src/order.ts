import { Type, type Static } from '@sinclair/typebox'
import { ORDER_STATUSES, FAILURE_REASONS } from './order-status.ts'
import { Uuid } from './uuid.ts'

export const OrderItem = Type.Object({
  sku: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
  quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
  unit_price: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'Minor units (cents)' })
}, { additionalProperties: false })
export type OrderItem = Static<typeof OrderItem>

export const CreateOrderBody = Type.Object({
  items: Type.Array(OrderItem, { minItems: 1, maxItems: 100 })
}, { additionalProperties: false })
export type CreateOrderBody = Static<typeof CreateOrderBody>

export const OrderStatusSchema = Type.Union(ORDER_STATUSES.map(s => Type.Literal(s)))
export const FailureReasonSchema = Type.Union(FAILURE_REASONS.map(r => Type.Literal(r)))

export const Order = Type.Object({
  id: Uuid(),
  user_id: Uuid(),
  status: OrderStatusSchema,
  items: Type.Array(OrderItem),
  total: Type.Integer({ description: 'Sum of quantity × unit_price, minor units' }),
  failure_reason: Type.Union([FailureReasonSchema, Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
})
export type Order = Static<typeof Order>

export const OrderPage = Type.Object({
  orders: Type.Array(Order),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for the next page; null on the last page' })
})
export type OrderPage = Static<typeof OrderPage>

export const ChangeOrderStatusBody = Type.Object({
  status: OrderStatusSchema,
  failure_reason: Type.Optional(FailureReasonSchema)
}, { additionalProperties: false })
export type ChangeOrderStatusBody = Static<typeof ChangeOrderStatusBody>

export function orderTotal (items: readonly OrderItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unit_price, 0)
}
