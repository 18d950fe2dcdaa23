import { randomUUID } from 'node:crypto'
import type { Connection } from 'rabbitmq-client'
import { EXCHANGES, NOTIFICATION_QUEUE_PREFIX, orderFromEvent, type OrderStatusChangedV1 } from '@orders/contracts'
import { withConsumeSpan, withSpan, type Logger } from '@orders/platform'
import { orderMetrics } from '../order-metrics.ts'
import type { OrderNotificationHub } from './hub.ts'
import { StatusBindings } from './status-bindings.ts'

/**
 * Feeds the hub from the broker, so a socket on this replica hears of a status change made on
 * any replica. Each replica has its own exclusive, auto-deleted queue (it vanishes with the
 * replica), bound to `order_status_changed.<user id>` for each user with a socket here
 * (`bindings`, which the WebSocket route holds for each socket) and to nothing else: a replica
 * nobody watches on receives no status event at all.
 *
 * Only events the order-service published reach a browser: their `user-id` must be
 * `trustedPublisher`, the order-service's broker user. RabbitMQ refuses any publish whose
 * user-id is not its connection's user, so that check is the trust boundary (doc/messaging.md,
 * "Who may publish"); past it, the body is one the order-service wrote itself, and is not
 * validated again.
 */
export function consumeStatusEvents (options: { broker: Connection, hub: OrderNotificationHub, instanceId: string, trustedPublisher: string, log: Logger }) {
  const queue = `${NOTIFICATION_QUEUE_PREFIX}${options.instanceId}.${randomUUID()}`
  const { broker } = options
  const bindings = new StatusBindings({
    bind: async routingKey => { await broker.queueBind({ exchange: EXCHANGES.orderEvents, queue, routingKey }) },
    unbind: async routingKey => { await broker.queueUnbind({ exchange: EXCHANGES.orderEvents, queue, routingKey }) },
    log: options.log
  })
  let received = 0
  const consumer = broker.createConsumer({
    queue,
    queueOptions: { exclusive: true, autoDelete: true, durable: false },
    exchanges: [{ exchange: EXCHANGES.orderEvents, type: 'topic', durable: true }],
    // No queueBindings: they are the watched users', made and removed at run time.
    qos: { prefetchCount: 100 },
    // Notifications are best-effort: a client that misses one resynchronises with GET /orders.
    noAck: true
  }, async message => {
    received++
    orderMetrics.statusEventsReceived.inc()
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
  // Emitted after every (re)declaration of the queue: a new queue, bound to nobody yet.
  consumer.on('ready', () => { bindings.restore() })
  return {
    consumer,
    bindings,
    queue,
    /** Deliveries this consumer took from its queue, whatever became of them. */
    get received () { return received },
    /** Shutdown: stops binding, then the consumer (its queue goes with the connection). */
    async close () {
      bindings.stop()
      await consumer.close()
    }
  }
}

export type StatusEventFeed = ReturnType<typeof consumeStatusEvents>
