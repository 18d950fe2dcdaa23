import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Order } from './order.ts'
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

export const OrderCreatedV1 = integrationEvent('order_created', 1, Type.Object({ order: Order }))
export type OrderCreatedV1 = Static<typeof OrderCreatedV1>

export const OrderStatusChangedV1 = integrationEvent('order_status_changed', 1, Type.Object({
  order: Order,
  previous_status: Order.properties.status
}))
export type OrderStatusChangedV1 = Static<typeof OrderStatusChangedV1>

export const UserRegisteredV1 = integrationEvent('user_registered', 1, Type.Object({ user: User }))
export type UserRegisteredV1 = Static<typeof UserRegisteredV1>

export type IntegrationEvent = OrderCreatedV1 | OrderStatusChangedV1 | UserRegisteredV1
