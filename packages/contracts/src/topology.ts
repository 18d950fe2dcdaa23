/**
 * The RabbitMQ topology, as data: every exchange, queue and binding the platform uses.
 * Publishers and consumers declare what they touch from here on every (re)connect,
 * so a fresh vhost or a restarted broker needs no manual setup.
 */
export const EXCHANGES = {
  /** Durable topic exchange for every order event; routing key = event type. */
  orderEvents: 'orders.events',
  /** Durable topic exchange for every user event; routing key = event type. */
  userEvents: 'users.events'
} as const

export const QUEUES = {
  /** The order-processor's work queue. */
  orderProcessing: 'order-processor.order_created'
} as const

export const ROUTING_KEYS = {
  orderCreated: 'order_created',
  orderStatusChanged: 'order_status_changed',
  userRegistered: 'user_registered'
} as const

export const topology = {
  exchanges: [
    { exchange: EXCHANGES.orderEvents, type: 'topic', durable: true },
    { exchange: EXCHANGES.userEvents, type: 'topic', durable: true }
  ],
  orderProcessingQueue: {
    queues: [{ queue: QUEUES.orderProcessing, durable: true }],
    queueBindings: [{ exchange: EXCHANGES.orderEvents, queue: QUEUES.orderProcessing, routingKey: ROUTING_KEYS.orderCreated }]
  }
} as const
