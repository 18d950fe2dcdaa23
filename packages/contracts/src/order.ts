import { Type, type Static } from '@sinclair/typebox'
import { ORDER_STATUSES, FAILURE_REASONS } from './order-status.ts'
import { ORDER_LIMITS } from './order-limits.ts'
import { Uuid } from './uuid.ts'

export const OrderItem = Type.Object({
  sku: Type.String({ ...ORDER_LIMITS.sku }),
  quantity: Type.Integer({ ...ORDER_LIMITS.quantity }),
  unit_price: Type.Integer({ ...ORDER_LIMITS.unit_price, description: 'Minor units of the order\'s currency (cents for EUR, yen for JPY)' })
}, { additionalProperties: false })
export type OrderItem = Static<typeof OrderItem>

/**
 * An ISO 4217 code as answered and in events. Requests are checked harder (`format: iso-4217`,
 * a code the runtime's Intl knows; formats.ts); answers only say its shape, so the serializer
 * needs no format of ours.
 */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code, e.g. EUR', examples: ['EUR'] })

export const CreateOrderBody = Type.Object({
  items: Type.Array(OrderItem, { ...ORDER_LIMITS.items }),
  currency: Type.Optional(Type.String({
    ...ORDER_LIMITS.currency, description: 'ISO 4217 currency code of every unit_price; the service\'s DEFAULT_CURRENCY when left out', examples: ['EUR']
  }))
}, { additionalProperties: false })
export type CreateOrderBody = Static<typeof CreateOrderBody>

export const OrderStatusSchema = Type.Union(ORDER_STATUSES.map(s => Type.Literal(s)))
export const FailureReasonSchema = Type.Union(FAILURE_REASONS.map(r => Type.Literal(r)))

export const Order = Type.Object({
  id: Uuid(),
  user_id: Uuid(),
  status: OrderStatusSchema,
  items: Type.Array(OrderItem),
  currency: Currency,
  total: Type.Integer({ description: 'Sum of quantity × unit_price, minor units' }),
  failure_reason: Type.Union([FailureReasonSchema, Type.Null()]),
  cancellable_until: Type.String({
    format: 'date-time',
    description: 'End of the grace period: the processor takes the order no earlier, so until then a cancel always succeeds; ' +
      'afterwards only while the order is still new'
  }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
})
export type Order = Static<typeof Order>

export const OrderPage = Type.Object({
  orders: Type.Array(Order),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for the next page; null on the last page' })
})
export type OrderPage = Static<typeof OrderPage>

/** `GET /orders`: a page of the caller's orders, newest first, optionally of one status only. */
export const OrderListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' })),
  status: Type.Optional(Type.Union(ORDER_STATUSES.map(s => Type.Literal(s)), { description: 'Only orders in this status; pass it again with the cursor of a filtered page' }))
}, { additionalProperties: false })
export type OrderListQuery = Static<typeof OrderListQuery>

export const ChangeOrderStatusBody = Type.Object({
  status: OrderStatusSchema,
  failure_reason: Type.Optional(FailureReasonSchema)
}, { additionalProperties: false })
export type ChangeOrderStatusBody = Static<typeof ChangeOrderStatusBody>

export function orderTotal (items: readonly OrderItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unit_price, 0)
}
