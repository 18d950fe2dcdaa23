import { setTimeout as sleep } from 'node:timers/promises'
import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client'
import type { Logger } from '@orders/platform'
import { topology, type OrderCreatedV1 } from '@orders/contracts'
import { decodeOrderCreated } from './order-created-message.ts'
import { TransientCallbackError } from './order-callback-client.ts'
import type { ProcessingOutcome } from './process-order.ts'
import { DEAD_LETTER_REASONS, retryAttemptOf } from './delivery-headers.ts'
import { classifyError, planAfter, type Failure } from './failure-policy.ts'
import type { FailedMessageRouting } from './failed-message-publisher.ts'

export interface OrderCreatedConsumerOptions {
  connection: Connection
  log: Logger
  /** Messages held unacknowledged, and worked on, at once. */
  prefetch: number
  /** Runs the rules for one valid event. A thrown error is a failed attempt (see failure-policy.ts). */
  processEvent: (event: OrderCreatedV1, requestId: string, log: Logger) => Promise<ProcessingOutcome>
  /** Where failed deliveries go: a delay queue, or the dead-letter queue. */
  failedMessages: FailedMessageRouting
  /** The delay before each retry; after the last, the dead-letter queue. */
  retryDelaysMs: readonly number[]
  /** Aborted when the processor stops waiting for the work in flight: those messages are handed back. */
  stopping?: AbortSignal
  /** Pause before handing back a message whose failure could not be published anywhere. */
  handBackPauseMs?: number
}

// Only reached when the broker refused the retry copy too; without a pause the message would
// come straight back, and the broker dead-letters it after PROCESSOR_DELIVERY_LIMIT of those.
const DEFAULT_HAND_BACK_PAUSE_MS = 1_000

// The work queue comes first in the topology's list (the dead-letter queue second).
const [workQueue] = topology.orderProcessingQueue.queues

/**
 * Consumes `order_created` from the processor's quorum work queue, declared with its exchanges
 * and bindings on every (re)connect, so a fresh broker needs no setup. A message is
 * acknowledged only once the order-service took the final status (or the order was already
 * final), or once a copy of it is confirmed in a delay queue or the dead-letter queue; until
 * then a crash or a lost connection hands it to another delivery.
 */
export function createOrderCreatedConsumer (options: OrderCreatedConsumerOptions): Consumer {
  const consumer = options.connection.createConsumer({
    queue: workQueue.queue,
    queueOptions: { ...workQueue },
    exchanges: [...topology.orderProcessingQueue.exchanges],
    queueBindings: topology.orderProcessingQueue.queueBindings.filter(b => b.queue === workQueue.queue),
    qos: { prefetchCount: options.prefetch },
    // The work is waiting on HTTP, so every prefetched message is worked on at once rather
    // than sitting in memory while another processor instance could have taken it.
    concurrency: options.prefetch,
    requeue: true
  }, async message => await settleDelivery(message, options))
  consumer.on('error', err => { options.log.error({ err }, 'order_created consumer error') })
  consumer.on('ready', () => { options.log.info({ queue: workQueue.queue }, 'consuming order_created') })
  return consumer
}

/** Decides the fate of one delivery: ack (done, or a copy is safely elsewhere) or hand back. */
export async function settleDelivery (message: AsyncMessage, options: OrderCreatedConsumerOptions): Promise<ConsumerStatus> {
  const decoded = decodeOrderCreated(message)
  const log = options.log.child({
    order_id: decoded.orderId ?? null,
    request_id: decoded.requestId,
    message_id: message.messageId ?? null
  })
  const retriesSoFar = retryAttemptOf(message.headers)
  const delivery = {
    redelivered: message.redelivered,
    // Set by the quorum queue: earlier deliveries that ended without an ack (crash, shutdown).
    delivery_count: message.headers?.['x-delivery-count'] ?? 0,
    retry_attempt: retriesSoFar
  }
  if (!decoded.valid) {
    return await routeFailure(message, { kind: 'permanent', reason: DEAD_LETTER_REASONS.invalidMessage, detail: decoded.reason }, retriesSoFar, options, log)
  }

  let outcome: ProcessingOutcome
  try {
    log.debug(delivery, 'processing order')
    outcome = await options.processEvent(decoded.event, decoded.requestId, log)
  } catch (err) {
    if (options.stopping?.aborted) {
      log.info({ err }, 'processor stopping; message handed back to the work queue')
      return ConsumerStatus.REQUEUE
    }
    return await routeFailure(message, classifyError(err), retriesSoFar, options, log, err)
  }

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
      return await routeFailure(message, { kind: 'not_found', detail: 'the order-service does not know this order (404)' }, retriesSoFar, options, log)
  }
}

async function routeFailure (
  message: AsyncMessage, failure: Failure, retriesSoFar: number, options: OrderCreatedConsumerOptions, log: Logger, err?: unknown
): Promise<ConsumerStatus> {
  const plan = planAfter(failure, retriesSoFar, options.retryDelaysMs)
  try {
    if (plan.action === 'retry') {
      await options.failedMessages.retryLater(message, { attempt: plan.attempt, delayMs: plan.delayMs })
      // A transient answer is expected now and then; anything else is worth someone's attention.
      const level = err === undefined || err instanceof TransientCallbackError ? 'warn' : 'error'
      log[level]({ err, reason: failure.detail, retry_attempt: plan.attempt, retry_in_ms: plan.delayMs }, 'processing failed; retrying after a delay')
    } else {
      await options.failedMessages.deadLetter(message, { reason: plan.reason, detail: plan.detail })
      log.error({ err, reason: plan.reason, detail: plan.detail, retry_attempt: retriesSoFar }, 'message sent to the dead-letter queue')
    }
    return ConsumerStatus.ACK
  } catch (publishErr) {
    const pauseMs = options.handBackPauseMs ?? DEFAULT_HAND_BACK_PAUSE_MS
    log.error({ err: publishErr, failure: failure.detail, pause_ms: pauseMs }, 'could not publish the failed message on; handing it back to the work queue')
    await sleep(pauseMs, undefined, { signal: options.stopping }).catch(() => {})
    return ConsumerStatus.REQUEUE
  }
}
