import { randomUUID } from 'node:crypto'
import type { Connection } from 'rabbitmq-client'
import { EXCHANGES, NOTIFICATION_QUEUE_PREFIX, orderFromEvent, ROUTING_KEYS, type OrderStatusChangedV1 } from '@orders/contracts'
import { withConsumeSpan, withSpan, type Logger } from '@orders/platform'
import type { OrderNotificationHub } from './hub.ts'

/**
 * Feeds the hub from the broker, so a socket on this replica hears of a status change made on
 * any replica. Each replica has its own exclusive, auto-deleted queue bound to the order
 * events: every replica gets every status change; the queue vanishes with the replica.
 *
 * Only events the order-service published reach a browser: their `user-id` must be
 * `trustedPublisher`, the order-service's broker user. RabbitMQ refuses any publish whose
 * user-id is not its connection's user, so that check is the trust boundary (doc/messaging.md,
 * "Who may publish"); past it, the body is one the order-service wrote itself, and is not
 * validated again.
 */
export function consumeStatusEvents (options: { broker: Connection, hub: OrderNotificationHub, instanceId: string, trustedPublisher: string, log: Logger }) {
  const queue = `${NOTIFICATION_QUEUE_PREFIX}${options.instanceId}.${randomUUID()}`
  const consumer = options.broker.createConsumer({
    queue,
    queueOptions: { exclusive: true, autoDelete: true, durable: false },
    exchanges: [{ exchange: EXCHANGES.orderEvents, type: 'topic', durable: true }],
    queueBindings: [{ exchange: EXCHANGES.orderEvents, queue, routingKey: ROUTING_KEYS.orderStatusChanged }],
    qos: { prefetchCount: 100 },
    // Notifications are best-effort: a client that misses one resynchronises with GET /orders.
    noAck: true
  }, async message => {
    // Under the relay's publish of the event (its `traceparent` header): the last hop of an order's trace.
    await withConsumeSpan(message.headers, { exchange: message.exchange, routingKey: message.routingKey, messageId: message.messageId }, async () => {
      if (message.userId !== options.trustedPublisher) {
        options.log.warn({ message_id: message.messageId ?? null, user_id: message.userId ?? null }, 'dropped an order_status_changed event the order-service did not publish')
        return
      }
      const event = message.body as OrderStatusChangedV1
      // A later version, published beside this one while consumers move (doc/messaging.md), is not for this code.
      if (event.version !== 1) return
      const order = orderFromEvent(event.data.order)
      await withSpan('push order status to WebSockets', { 'orders.order_id': order.id, 'orders.status': order.status }, async () => {
        options.hub.notifyStatusChanged(order)
      })
    })
  })
  consumer.on('error', err => { options.log.warn({ err }, 'status event consumer error (it reconnects)') })
  return consumer
}
