import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Currency, Order } from './order.ts'
import { User } from './user.ts'

/**
 * Integration events: one small contract per event, named in the past tense.
 * The routing key on the exchange is the event's `type`. A consumer checks `type` and
 * `version`; a breaking change gets a new version, published beside the old one.
 */
function integrationEvent<T extends string, P extends TSchema> (type: T, version: number, payload: P) {
  return Type.Object({
    type: Type.Literal(type),
    version: Type.Literal(version),
    occurred_at: Type.String({ format: 'date-time' }),
    data: payload
  })
}

/**
 * The order as events carry it. `currency` and `cancellable_until` came later: producers always
 * write them, and a consumer must still accept a v1 event without them (one written before they
 * existed): no currency reads as the platform's DEFAULT_CURRENCY of that time (EUR), no
 * `cancellable_until` as "no grace period".
 */
export const EventOrder = Type.Object({
  ...Order.properties,
  currency: Type.Optional(Currency),
  cancellable_until: Type.Optional(Order.properties.cancellable_until)
})
export type EventOrder = Static<typeof EventOrder>

/** The order of an event with the fields it may lack filled in as their absence means. */
export function orderFromEvent (order: EventOrder): Order {
  return { ...order, currency: order.currency ?? 'EUR', cancellable_until: order.cancellable_until ?? order.created_at }
}

export const OrderCreatedV1 = integrationEvent('order_created', 1, Type.Object({ order: EventOrder }))
export type OrderCreatedV1 = Static<typeof OrderCreatedV1>

export const OrderStatusChangedV1 = integrationEvent('order_status_changed', 1, Type.Object({
  order: EventOrder,
  previous_status: Order.properties.status
}))
export type OrderStatusChangedV1 = Static<typeof OrderStatusChangedV1>

export const UserRegisteredV1 = integrationEvent('user_registered', 1, Type.Object({ user: User }))
export type UserRegisteredV1 = Static<typeof UserRegisteredV1>

export type IntegrationEvent = OrderCreatedV1 | OrderStatusChangedV1 | UserRegisteredV1
