/**
 * The RabbitMQ topology, as data: every exchange, queue and binding the platform uses, and the
 * headers of the messages the processor moves between its queues. Each process declares only
 * what it owns from here, on every (re)connect: a publisher its exchange, a consumer its queue
 * and bindings (doc/messaging.md, "Who declares what"; doc/delivery.md draws the processor's).
 *
 * RabbitMQ refuses to redeclare a queue with other arguments (PRECONDITION_FAILED), so a
 * queue's arguments never change under the same name: a queue that needs new arguments gets a
 * new name.
 */
export const EXCHANGES = {
  /**
   * Durable topic exchange for every order event; routing key = event type, and for a status
   * change the owner's id after it (`order_status_changed.<user id>`, statusChangedRoutingKey).
   */
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
   * New orders waiting for their grace period to end (each message expires when it does), then
   * dead-lettered into the work queue like a delayed retry (doc/delivery.md, "The grace period").
   */
  orderGracePeriod: 'order-processor.grace-period'
} as const

/**
 * Each order-service replica's own queue of status events is named
 * `order-service.notifications.<instance>.<uuid>` (exclusive, auto-deleted: it goes with its replica).
 * It is bound to `order_status_changed.<user id>` for each user with a socket open on that
 * replica, and to nothing else: a replica hears only of the orders someone there watches.
 */
export const NOTIFICATION_QUEUE_PREFIX = 'order-service.notifications.'

/** Every exchange and queue of the order-processor is named with this prefix (its broker permissions rely on it). */
export const PROCESSOR_NAME_PREFIX = 'order-processor.'

export const ROUTING_KEYS = {
  orderCreated: 'order_created',
  /** The event type; its routing key adds the owner's id (statusChangedRoutingKey). */
  orderStatusChanged: 'order_status_changed',
  userRegistered: 'user_registered'
} as const

/**
 * `order_status_changed.<user id>`: a status change is routed by its owner, so a replica binds
 * only the users it has sockets for (doc/messaging.md, "Live status"). User ids are UUIDs, one
 * topic word each; anything else could be a wildcard in a binding, and is refused.
 */
export function statusChangedRoutingKey (userId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) throw new Error(`not a user id: ${JSON.stringify(userId)}`)
  return `${STATUS_CHANGED_ROUTING_KEY_PREFIX}${userId}`
}
/** What the order-service's SQL puts before the owner's id (order-statements.ts). */
export const STATUS_CHANGED_ROUTING_KEY_PREFIX = `${ROUTING_KEYS.orderStatusChanged}.`
/** A binding for every user's status changes (`*`: one word, the user id). */
export const ANY_STATUS_CHANGED = `${ROUTING_KEYS.orderStatusChanged}.*`

/**
 * The event type a routing key carries, its first word: what spans are named by, so a trace
 * backend sees a few span names, not one per user.
 */
export function eventTypeOfRoutingKey (routingKey: string): string {
  const dot = routingKey.indexOf('.')
  return dot === -1 ? routingKey : routingKey.slice(0, dot)
}

/**
 * The event exchanges, one per publishing service. Each publisher declares its own; the broker
 * setup (`brokerDefinitions`, packages/platform) declares them all, so a consumer can bind to
 * one before its publisher first connected, without configure permission on it.
 */
export const EVENT_EXCHANGES = {
  orderEvents: { exchange: EXCHANGES.orderEvents, type: 'topic', durable: true },
  userEvents: { exchange: EXCHANGES.userEvents, type: 'topic', durable: true }
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

/** `order-processor.delay.5000ms`: named by its delay, so other delays are other queues, never a conflict. */
export function delayQueueName (delayMs: number): string {
  return `order-processor.delay.${delayMs}ms`
}

export interface QuorumQueueOptions {
  /**
   * `x-quorum-initial-group-size`: on how many cluster nodes a new quorum queue gets a replica
   * (3 on `pnpm dev --ha`'s cluster: every node). Left out by default, because a queue's
   * arguments must match on every redeclaration and the queues of a single-node broker were
   * declared without it; on a single node a larger size means that one node anyway.
   */
  quorumInitialGroupSize?: number
}

/**
 * Everything the order-processor owns, declared by the processor alone: its work queue bound
 * to `orders.events` (and to `order-processor.work`, for retries and replays), one delay queue
 * per retry delay (a message waits there for the queue's TTL, then the broker dead-letters it
 * back through `order-processor.work`; no plugin), and the dead-letter queue.
 */
export function processorTopology (retryDelaysMs: readonly number[], { quorumInitialGroupSize }: QuorumQueueOptions = {}) {
  const delays = [...new Set(retryDelaysMs)]
  const replicas = quorumInitialGroupSize === undefined ? {} : { 'x-quorum-initial-group-size': quorumInitialGroupSize }
  const workQueue = {
    queue: QUEUES.orderProcessing,
    // Quorum queues must be durable.
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      ...replicas,
      'x-delivery-limit': PROCESSOR_DELIVERY_LIMIT,
      'x-dead-letter-exchange': EXCHANGES.processorDeadLetter,
      ...safeDeadLettering
    }
  } as const
  const workQueueBindings = [
    { exchange: EXCHANGES.orderEvents, queue: QUEUES.orderProcessing, routingKey: ROUTING_KEYS.orderCreated },
    { exchange: EXCHANGES.processorWork, queue: QUEUES.orderProcessing, routingKey: ROUTING_KEYS.orderCreated }
  ]
  // Classic on purpose: a classic queue puts a requeued message back where it was, so
  // `pnpm dlq list` (get everything, then requeue everything) keeps the order.
  const deadLetterQueue = { queue: QUEUES.orderProcessingDeadLetters, durable: true, arguments: { 'x-queue-type': 'classic' } } as const
  const delayQueues = delays.map(delayMs => ({
    queue: delayQueueName(delayMs),
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      ...replicas,
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': EXCHANGES.processorWork,
      'x-dead-letter-routing-key': ROUTING_KEYS.orderCreated,
      ...safeDeadLettering
    }
  }))
  // Like a delay queue, but each message carries its own TTL (the time left of its order's
  // grace period). Expiry happens at the head of the queue, so a message never waits less than
  // its TTL; as every order gets the same grace period, they arrive in the order they expire.
  const graceQueue = {
    queue: QUEUES.orderGracePeriod,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      ...replicas,
      'x-dead-letter-exchange': EXCHANGES.processorWork,
      'x-dead-letter-routing-key': ROUTING_KEYS.orderCreated,
      ...safeDeadLettering
    }
  }
  // The processor's own exchanges the work queue is bound to, and its dead-letter exchange. Not
  // `orders.events`: that one is the order-service's (and the broker setup's, so that it exists
  // before anyone binds to it); binding to it takes only read permission (service-accounts.ts).
  const workQueueExchanges = [
    { exchange: EXCHANGES.processorWork, type: 'direct', durable: true },
    { exchange: EXCHANGES.processorDeadLetter, type: 'fanout', durable: true }
  ] as const
  return {
    workQueue,
    workQueueExchanges,
    workQueueBindings,
    deadLetterQueue,
    exchanges: [...workQueueExchanges, { exchange: EXCHANGES.processorDelay, type: 'direct', durable: true } as const],
    queues: [workQueue, deadLetterQueue, graceQueue, ...delayQueues],
    queueBindings: [
      ...workQueueBindings,
      { exchange: EXCHANGES.processorDeadLetter, queue: QUEUES.orderProcessingDeadLetters, routingKey: '' },
      { exchange: EXCHANGES.processorDelay, queue: QUEUES.orderGracePeriod, routingKey: QUEUES.orderGracePeriod },
      ...delays.map(delayMs => ({ exchange: EXCHANGES.processorDelay, queue: delayQueueName(delayMs), routingKey: delayQueueName(delayMs) }))
    ]
  }
}

/**
 * Headers the processor puts on the copies it sends to a delay queue or the dead-letter queue,
 * read back by the processor (the retry count) and by `pnpm dlq` (doc/delivery.md, "Headers").
 */
export const DELIVERY_HEADERS = {
  /** Delayed retries this message has been through: 1 on the first retry. */
  retryAttempt: 'x-retry-attempt',
  /** Why the message is in the dead-letter queue: one of DEAD_LETTER_REASONS. */
  deadLetterReason: 'x-dead-letter-reason',
  /** The error behind the reason, for people. */
  deadLetterDetail: 'x-dead-letter-detail',
  /** ISO 8601 time at which the processor gave up. */
  failedAt: 'x-failed-at',
  /** Where the message was first published, before any retry or dead-lettering. */
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key'
} as const

export const DEAD_LETTER_REASONS = {
  /** Not JSON, or not an order_created v1 event: no attempt can change that. */
  invalidMessage: 'invalid_message',
  /** The order-service answered 404 on every attempt. */
  orderNotFound: 'order_not_found',
  /** The order-service refused the call with a 4xx that retrying cannot change (400, 403, …). */
  rejected: 'rejected_by_order_service',
  /** Transient failures (5xx, unreachable, timeouts) on every attempt. */
  retriesExhausted: 'retries_exhausted'
} as const
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[keyof typeof DEAD_LETTER_REASONS]

/** Headers the broker sets on delivery or dead-lettering; a copy published afresh must not carry them. */
export const BROKER_HEADERS = [
  'x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason',
  'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason', 'x-delivery-count'
] as const

/** The retry attempt a delivery carries (0: never retried); anything unreadable counts as 0. */
export function retryAttemptOf (headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.[DELIVERY_HEADERS.retryAttempt] ?? 0)
  return Number.isInteger(value) && value > 0 ? value : 0
}
