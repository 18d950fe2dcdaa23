import { Type, type Static } from '@sinclair/typebox'
import { Order } from './order.ts'
import { LIVE_STATUS_TOKEN_PARAM } from './live-status.ts'

/**
 * The live-status WebSocket's messages and query as schemas (the protocol: live-status.ts).
 * Apart from it because typebox's type builder is about 56 kB of minified script, which the
 * web app, which only reads messages, should not carry.
 */
export const LiveStatusQuery = Type.Object({
  [LIVE_STATUS_TOKEN_PARAM]: Type.String({ minLength: 1, description: 'A user access token (scope `orders`)' })
})

/** Sent for every status change of one of the caller's own orders, from whichever replica made it. */
export const OrderStatusChangedMessage = Type.Object({
  type: Type.Literal('order.status_changed'),
  order: Order
})
export type OrderStatusChangedMessage = Static<typeof OrderStatusChangedMessage>
