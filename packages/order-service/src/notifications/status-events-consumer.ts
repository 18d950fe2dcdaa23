import { randomUUID } from 'node:crypto'
import { Value } from '@sinclair/typebox/value'
import type { Connection } from 'rabbitmq-client'
import { EXCHANGES, orderFromEvent, OrderStatusChangedV1, ROUTING_KEYS } from '@orders/contracts'
import { withConsumeSpan, withSpan, type Logger } from '@orders/platform'
import type { OrderNotificationHub } from './hub.ts'

/**
 * Feeds the hub from the broker, so a socket on this replica hears of a status change made on
 * any replica. Each replica has its own exclusive, auto-deleted queue bound to the order
 * events: every replica gets every status change; the queue vanishes with the replica.
 */
export function consumeStatusEvents (options: { broker: Connection, hub: OrderNotificationHub, instanceId: string, log: Logger }) {
  const queue = `order-service.notifications.${options.instanceId}.${randomUUID()}`
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
      if (!Value.Check(OrderStatusChangedV1, message.body)) {
        options.log.warn({ message_id: message.messageId }, 'ignoring a malformed order_status_changed event')
        return
      }
      const order = orderFromEvent(message.body.data.order)
      await withSpan('push order status to WebSockets', { 'orders.order_id': order.id, 'orders.status': order.status }, async () => {
        options.hub.notifyStatusChanged(order)
      })
    })
  })
  consumer.on('error', err => { options.log.warn({ err }, 'status event consumer error (it reconnects)') })
  return consumer
}
