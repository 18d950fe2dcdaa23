import { setTimeout as sleep } from 'node:timers/promises'
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client'
import type { Logger } from '@orders/platform'
import { EXCHANGES, topology, type OrderCreatedV1 } from '@orders/contracts'
import { decodeOrderCreated } from './order-created-message.ts'
import { TransientCallbackError } from './order-callback-client.ts'
import type { ProcessingOutcome } from './process-order.ts'

export interface OrderCreatedConsumerOptions {
  connection: Connection
  log: Logger
  /** Messages held unacknowledged, and worked on, at once. */
  prefetch: number
  /** Runs the rules for one valid event. A thrown error requeues the message. */
  processEvent: (event: OrderCreatedV1, requestId: string, log: Logger) => Promise<ProcessingOutcome>
  /** Pause before a failed message goes back to the queue; a random point in [min, max]. */
  retryBackoffMs?: { min: number, max: number }
}

// Until delayed-retry queues exist, a requeued message comes straight back: without this
// pause an order-service outage would turn every prefetched message into a hot loop.
const DEFAULT_RETRY_BACKOFF_MS = { min: 500, max: 1_000 }

const [processingQueue] = topology.orderProcessingQueue.queues

/**
 * Consumes `order_created` from the processor's durable queue. The queue, the exchange and the
 * binding are declared on every (re)connect, so a fresh broker needs no setup. A message is
 * acknowledged only once the order-service took the final status (or the order was already
 * final); until then a crash or a lost connection hands it to another delivery.
 */
export function createOrderCreatedConsumer (options: OrderCreatedConsumerOptions): Consumer {
  const consumer = options.connection.createConsumer({
    queue: processingQueue.queue,
    queueOptions: { ...processingQueue },
    exchanges: topology.exchanges.filter(e => e.exchange === EXCHANGES.orderEvents),
    queueBindings: [...topology.orderProcessingQueue.queueBindings],
    qos: { prefetchCount: options.prefetch },
    // The work is waiting on HTTP, so every prefetched message is worked on at once rather
    // than sitting in memory while another processor instance could have taken it.
    concurrency: options.prefetch,
    requeue: true
  }, async message => await settleDelivery(message, options))
  consumer.on('error', err => { options.log.error({ err }, 'order_created consumer error') })
  consumer.on('ready', () => { options.log.info({ queue: processingQueue.queue }, 'consuming order_created') })
  return consumer
}

/** Decides the fate of one delivery: ack, drop (no requeue) or requeue after a pause. */
export async function settleDelivery (message: AsyncMessage, options: OrderCreatedConsumerOptions): Promise<ConsumerStatus> {
  const decoded = decodeOrderCreated(message)
  const log = options.log.child({
    order_id: decoded.orderId ?? null,
    request_id: decoded.requestId,
    message_id: message.messageId ?? null
  })
  if (!decoded.valid) {
    // Requeueing could never help. A later issue sends these to a dead-letter queue.
    log.error({ reason: decoded.reason, redelivered: message.redelivered }, 'invalid order_created message dropped')
    return ConsumerStatus.DROP
  }

  try {
    log.debug({ redelivered: message.redelivered }, 'processing order')
    const outcome = await options.processEvent(decoded.event, decoded.requestId, log)
    return settleOutcome(outcome, log)
  } catch (err) {
    const { min, max } = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS
    const retryInMs = Math.round(min + Math.random() * (max - min))
    const level = err instanceof TransientCallbackError ? 'warn' : 'error'
    log[level]({ err, retry_in_ms: retryInMs, redelivered: message.redelivered }, 'processing failed; the message goes back to the queue')
    await sleep(retryInMs)
    return ConsumerStatus.REQUEUE
  }
}

function settleOutcome (outcome: ProcessingOutcome, log: Logger): ConsumerStatus {
  switch (outcome.outcome) {
    case 'completed':
      log.info({ resumed: outcome.resumed }, 'order completed')
      return ConsumerStatus.ACK
    case 'payment_declined':
      log.info({ resumed: outcome.resumed, failure_reason: 'payment_declined' }, 'order failed: payment declined')
      return ConsumerStatus.ACK
    case 'already_processed':
      // A redelivery of a message whose order is final: harmless, nothing was changed.
      log.info({ status: outcome.status }, 'order already processed; message acknowledged')
      return ConsumerStatus.ACK
    case 'order_not_found':
      log.error('the order-service does not know this order; message dropped')
      return ConsumerStatus.DROP
  }
}
