import { setTimeout as sleep } from 'node:timers/promises'
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client'
import { withConsumeSpan, type Logger } from '@orders/platform'
import { processorTopology, retryAttemptOf, DEAD_LETTER_REASONS } from '@orders/contracts'
import { TransientOrderServiceError } from '../order-service-client.ts'
import type { ProcessingOutcome } from '../rules/process-order.ts'
import { decodeOrderCreated, type ProcessedOrderCreated } from './order-created-message.ts'
import { classifyError, routeFailedMessage, type Failure, type PublishConfirmed } from './failed-messages.ts'
import { deferUntilGraceEnds, graceRemainingMs } from './grace-period.ts'
import { processorMetrics } from './metrics.ts'

/** The message a run of the rules belongs to: its request id, and a logger that names it. */
export interface MessageContext {
  requestId: string
  log: Logger
}

export interface OrderCreatedConsumerOptions {
  connection: Connection
  log: Logger
  /** Messages held unacknowledged, and worked on, at once. */
  prefetch: number
  /** Runs the rules for one valid event. A thrown error is a failed attempt (see failed-messages.ts). */
  processEvent: (event: ProcessedOrderCreated, message: MessageContext) => Promise<ProcessingOutcome>
  /** Publishes a failed delivery's copy to a delay queue or the dead-letter queue, with confirms. */
  publishConfirmed: PublishConfirmed
  /** The delay before each retry; after the last, the dead-letter queue. */
  retryDelaysMs: readonly number[]
  /** Replicas of the work queue when the consumer creates it (contracts' QuorumQueueOptions). */
  quorumInitialGroupSize?: number
  /** Aborted when the processor stops waiting for the work in flight: those messages are handed back. */
  stopping?: AbortSignal
  /** Pause before handing back a message whose failure could not be published anywhere. */
  handBackPauseMs?: number
}

// Only reached when the broker refused the copy too; without a pause the message would come
// straight back, and the broker dead-letters it after PROCESSOR_DELIVERY_LIMIT of those.
const DEFAULT_HAND_BACK_PAUSE_MS = 1_000

/**
 * Consumes `order_created` from the processor's quorum work queue, which it declares with its
 * exchanges and bindings on every (re)connect, so a fresh broker needs no setup. A message is
 * acknowledged only once the order-service took the final status (or the order was already
 * final), or once a copy of it is confirmed in a delay queue or the dead-letter queue; until
 * then a crash or a lost connection hands it to another delivery.
 */
export function createOrderCreatedConsumer (options: OrderCreatedConsumerOptions): Consumer {
  const topology = processorTopology(options.retryDelaysMs, { quorumInitialGroupSize: options.quorumInitialGroupSize })
  const consumer = options.connection.createConsumer({
    queue: topology.workQueue.queue,
    queueOptions: { ...topology.workQueue },
    exchanges: topology.workQueueExchanges.map(exchange => ({ ...exchange })),
    queueBindings: topology.workQueueBindings,
    qos: { prefetchCount: options.prefetch },
    // The work is waiting on HTTP, so every prefetched message is worked on at once rather
    // than sitting in memory while another processor instance could have taken it.
    concurrency: options.prefetch,
    requeue: true
  }, async message => await settleDelivery(message, options))
  consumer.on('error', err => { options.log.error({ err }, 'order_created consumer error') })
  consumer.on('ready', () => { options.log.info({ queue: topology.workQueue.queue }, 'consuming order_created') })
  return consumer
}

/**
 * Decides the fate of one delivery: ack (done, or a copy is safely elsewhere) or hand back.
 * It runs in a span under the publish that sent the message (its `traceparent` header), so
 * the order-service calls it makes join the trace of the request that created the order.
 */
export async function settleDelivery (message: AsyncMessage, options: OrderCreatedConsumerOptions): Promise<ConsumerStatus> {
  const destination = { exchange: message.exchange, routingKey: message.routingKey, messageId: message.messageId }
  return await withConsumeSpan(message.headers, destination, async () => await settle(message, options))
}

async function settle (message: AsyncMessage, options: OrderCreatedConsumerOptions): Promise<ConsumerStatus> {
  const decoded = decodeOrderCreated(message)
  const log = options.log.child({
    order_id: decoded.orderId ?? null,
    request_id: decoded.requestId,
    message_id: message.messageId ?? null
  })
  const delivery = {
    redelivered: message.redelivered,
    // Set by the quorum queue: earlier deliveries that ended without an ack (crash, shutdown).
    delivery_count: message.headers?.['x-delivery-count'] ?? 0,
    retry_attempt: retryAttemptOf(message.headers)
  }
  if (!decoded.valid) {
    return await routeFailure(message, { kind: 'permanent', reason: DEAD_LETTER_REASONS.invalidMessage, detail: decoded.reason }, options, log)
  }
  const graceMs = graceRemainingMs(decoded.event.data.order, Date.now())
  if (graceMs > 0) {
    try {
      await deferUntilGraceEnds(message, graceMs, options.publishConfirmed)
      log.debug({ ...delivery, wait_ms: graceMs }, 'order in its grace period; waiting in the grace queue')
      return ConsumerStatus.ACK
    } catch (err) {
      return await handBack(err, 'could not send the order to wait out its grace period; handing it back to the work queue', options, log)
    }
  }

  let outcome: ProcessingOutcome
  try {
    log.debug(delivery, 'processing order')
    outcome = await options.processEvent(decoded.event, { requestId: decoded.requestId, log })
  } catch (err) {
    if (options.stopping?.aborted) {
      log.info({ err }, 'processor stopping; message handed back to the work queue')
      processorMetrics.messages.inc({ result: 'handed_back' })
      return ConsumerStatus.REQUEUE
    }
    return await routeFailure(message, classifyError(err), options, log, err)
  }

  if (outcome.outcome !== 'order_not_found') processorMetrics.messages.inc({ result: outcome.outcome })
  switch (outcome.outcome) {
    case 'completed':
      log.info({ ...delivery, resumed: outcome.resumed, charged: outcome.charged }, 'order completed')
      return ConsumerStatus.ACK
    case 'payment_declined':
      log.info({ ...delivery, resumed: outcome.resumed, charged: outcome.charged, failure_reason: 'payment_declined' }, 'order failed: payment declined')
      return ConsumerStatus.ACK
    case 'already_processed':
      // A redelivery of a message whose order is final: harmless, nothing was changed.
      log.info({ ...delivery, status: outcome.status }, 'order already processed; message acknowledged')
      return ConsumerStatus.ACK
    case 'order_not_found':
      return await routeFailure(message, { kind: 'not_found', detail: 'the order-service does not know this order (404)' }, options, log)
  }
}

async function routeFailure (message: AsyncMessage, failure: Failure, options: OrderCreatedConsumerOptions, log: Logger, err?: unknown): Promise<ConsumerStatus> {
  try {
    const plan = await routeFailedMessage(message, failure, { retryDelaysMs: options.retryDelaysMs, publish: options.publishConfirmed })
    if (plan.action === 'retry') {
      // A transient answer is expected now and then; anything else is worth someone's attention.
      const level = err === undefined || err instanceof TransientOrderServiceError ? 'warn' : 'error'
      log[level]({ err, reason: failure.detail, retry_attempt: plan.attempt, retry_in_ms: plan.delayMs }, 'processing failed; retrying after a delay')
      processorMetrics.messages.inc({ result: 'retried' })
    } else {
      log.error({ err, reason: plan.reason, detail: plan.detail, retry_attempt: retryAttemptOf(message.headers) }, 'message sent to the dead-letter queue')
      processorMetrics.messages.inc({ result: 'dead_lettered' })
      processorMetrics.deadLetters.inc({ reason: plan.reason })
    }
    return ConsumerStatus.ACK
  } catch (publishErr) {
    return await handBack(publishErr, `could not publish the failed message on (${failure.detail}); handing it back to the work queue`, options, log)
  }
}

/** After a pause (so it does not come straight back), the message goes back to the work queue. */
async function handBack (err: unknown, what: string, options: OrderCreatedConsumerOptions, log: Logger): Promise<ConsumerStatus> {
  const pauseMs = options.handBackPauseMs ?? DEFAULT_HAND_BACK_PAUSE_MS
  log.error({ err, pause_ms: pauseMs }, what)
  processorMetrics.messages.inc({ result: 'handed_back' })
  await sleep(pauseMs, undefined, { signal: options.stopping }).catch(() => {})
  return ConsumerStatus.REQUEUE
}
