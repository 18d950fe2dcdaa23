/**
 * The RabbitMQ topology, as data: every exchange, queue and binding the platform uses.
 * Publishers and consumers declare what they touch from here on every (re)connect,
 * so a fresh vhost or a restarted broker needs no manual setup. doc/delivery.md draws it.
 *
 * RabbitMQ refuses to redeclare a queue with other arguments (PRECONDITION_FAILED), so a
 * queue's arguments never change under the same name: a queue that needs new arguments
 * gets a new name (as the processor's work queue did when it became a quorum queue).
 */
export const EXCHANGES = {
  /** Durable topic exchange for every order event; routing key = event type. */
  orderEvents: 'orders.events',
  /** Durable topic exchange for every user event; routing key = event type. */
  userEvents: 'users.events',
  /**
   * The processor's private way back into its work queue (delayed retries, replays from
   * the dead-letter queue). Unlike `orders.events` it reaches no other consumer.
   */
  processorWork: 'order-processor.work',
  /** Where the processor sends a message to wait before its next attempt; routing key = delay queue. */
  processorDelay: 'order-processor.delay',
  /** Fanout to the dead-letter queue: the work queue's dead-letter exchange, and the processor's own. */
  processorDeadLetter: 'order-processor.dead-letter'
} as const

export const QUEUES = {
  /** The order-processor's work queue: a quorum queue (replicated, delivery limit, safe dead-lettering). */
  orderProcessing: 'order-processor.order_created.quorum',
  /** Messages that can never succeed, with the reason in their headers (`pnpm dlq`). */
  orderProcessingDeadLetters: 'order-processor.dead-letters',
  /**
   * The classic work queue of earlier versions. A queue's type cannot change, so the processor
   * moves whatever is left in it to the work queue and deletes it (legacy-queue.ts).
   */
  legacyOrderProcessing: 'order-processor.order_created'
} as const

export const ROUTING_KEYS = {
  orderCreated: 'order_created',
  orderStatusChanged: 'order_status_changed',
  userRegistered: 'user_registered'
} as const

/**
 * Deliveries of one message to the work queue before the broker dead-letters it
 * (quorum queues count them in the `x-delivery-count` header). The processor itself never
 * requeues a failure (it uses the delay queues), so only crashes, lost connections and
 * shutdowns that hand a message back count: ten of those means the message is what kills
 * the processor. High enough that a few restarts under load never reach it.
 */
export const PROCESSOR_DELIVERY_LIMIT = 10

/** Delays before the 1st, 2nd, … retry of a transient failure; RETRY_DELAYS_MS overrides them. */
export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000] as const

// At-least-once dead-lettering (RabbitMQ ≥ 3.10, quorum queues only) keeps a message in its
// queue until the dead-letter target confirmed it; it requires `x-overflow: reject-publish`.
// The default (at-most-once) could lose a message on its way to the DLQ or back from a delay.
const safeDeadLettering = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } as const

const orderEventsExchange = { exchange: EXCHANGES.orderEvents, type: 'topic', durable: true } as const

export const topology = {
  exchanges: [
    orderEventsExchange,
    { exchange: EXCHANGES.userEvents, type: 'topic', durable: true }
  ],
  /**
   * The processor's work queue and everything it needs, complete in itself so it can be
   * declared on an empty vhost: the exchanges it is bound to, its dead-letter exchange and
   * queue. Declared by every publisher of `orders.events` and by the processor.
   */
  orderProcessingQueue: {
    exchanges: [
      orderEventsExchange,
      { exchange: EXCHANGES.processorWork, type: 'direct', durable: true },
      { exchange: EXCHANGES.processorDeadLetter, type: 'fanout', durable: true }
    ],
    queues: [
      {
        queue: QUEUES.orderProcessing,
        // Quorum queues must be durable.
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': PROCESSOR_DELIVERY_LIMIT,
          'x-dead-letter-exchange': EXCHANGES.processorDeadLetter,
          ...safeDeadLettering
        }
      },
      // Classic on purpose: a classic queue puts a requeued message back where it was, so
      // `pnpm dlq list` (get everything, then requeue everything) keeps the order.
      { queue: QUEUES.orderProcessingDeadLetters, durable: true, arguments: { 'x-queue-type': 'classic' } }
    ],
    queueBindings: [
      { exchange: EXCHANGES.orderEvents, queue: QUEUES.orderProcessing, routingKey: ROUTING_KEYS.orderCreated },
      { exchange: EXCHANGES.processorWork, queue: QUEUES.orderProcessing, routingKey: ROUTING_KEYS.orderCreated },
      { exchange: EXCHANGES.processorDeadLetter, queue: QUEUES.orderProcessingDeadLetters, routingKey: '' }
    ]
  }
} as const

/** `order-processor.delay.5000ms`: named by its delay, so other delays are other queues, never a conflict. */
export function delayQueueName (delayMs: number): string {
  return `order-processor.delay.${delayMs}ms`
}

/**
 * The processor's delayed-retry path, one queue per delay: a message waits there for the
 * queue's TTL and is then dead-lettered back to the work queue through `order-processor.work`.
 * No plugin needed (RabbitMQ 3.10 has TTL on quorum queues). Declared by the processor only.
 */
export function processorRetryTopology (delaysMs: readonly number[]) {
  const delays = [...new Set(delaysMs)]
  return {
    exchanges: [{ exchange: EXCHANGES.processorDelay, type: 'direct' as const, durable: true }],
    queues: delays.map(delayMs => ({
      queue: delayQueueName(delayMs),
      durable: true,
      arguments: {
        'x-queue-type': 'quorum' as const,
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': EXCHANGES.processorWork,
        'x-dead-letter-routing-key': ROUTING_KEYS.orderCreated,
        ...safeDeadLettering
      }
    })),
    queueBindings: delays.map(delayMs => ({ exchange: EXCHANGES.processorDelay, queue: delayQueueName(delayMs), routingKey: delayQueueName(delayMs) }))
  }
}
