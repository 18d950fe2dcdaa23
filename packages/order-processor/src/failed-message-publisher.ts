import type { Connection } from 'rabbitmq-client'
import { delayQueueName, EXCHANGES, processorRetryTopology, topology } from '@orders/contracts'
import { createConfirmedPublisher, type ConfirmedPublisher } from './confirmed-publisher.ts'
import { DELIVERY_HEADERS, withoutBrokerHeaders, type DeadLetterReason } from './delivery-headers.ts'
import { copyOf, type ReceivedMessage } from './message-copy.ts'

/** Where a failed delivery goes instead of back to the head of the work queue. */
export interface FailedMessageRouting {
  /** A copy waits in the delay queue of `delayMs`, then returns to the work queue. */
  retryLater: (message: ReceivedMessage, retry: { attempt: number, delayMs: number }) => Promise<void>
  /** A copy goes to the dead-letter queue with the reason in its headers. */
  deadLetter: (message: ReceivedMessage, deadLetter: { reason: DeadLetterReason, detail: string }) => Promise<void>
}

/**
 * Publishes copies of failed deliveries (with confirms) to a delay queue or the dead-letter
 * queue. The caller acknowledges the original only after the copy is confirmed, so a crash
 * in between leaves two copies (handled like any redelivery), never none.
 */
export class FailedMessagePublisher implements FailedMessageRouting {
  readonly #publisher: ConfirmedPublisher

  constructor (options: { connection: Connection, retryDelaysMs: readonly number[] }) {
    const retry = processorRetryTopology(options.retryDelaysMs)
    this.#publisher = createConfirmedPublisher(options.connection, {
      exchanges: [...topology.orderProcessingQueue.exchanges, ...retry.exchanges],
      queues: [...topology.orderProcessingQueue.queues, ...retry.queues],
      queueBindings: [...topology.orderProcessingQueue.queueBindings, ...retry.queueBindings]
    })
  }

  async retryLater (message: ReceivedMessage, retry: { attempt: number, delayMs: number }): Promise<void> {
    const copy = copyOf(message, {
      exchange: EXCHANGES.processorDelay,
      routingKey: delayQueueName(retry.delayMs),
      headers: { ...withoutBrokerHeaders(message.headers), ...originOf(message), [DELIVERY_HEADERS.retryAttempt]: retry.attempt }
    })
    await this.#publisher.publish(copy.envelope, copy.body)
  }

  async deadLetter (message: ReceivedMessage, deadLetter: { reason: DeadLetterReason, detail: string }): Promise<void> {
    const origin = originOf(message)
    const copy = copyOf(message, {
      exchange: EXCHANGES.processorDeadLetter,
      routingKey: origin[DELIVERY_HEADERS.originalRoutingKey],
      headers: {
        ...withoutBrokerHeaders(message.headers),
        ...origin,
        [DELIVERY_HEADERS.deadLetterReason]: deadLetter.reason,
        // Header values travel in every frame; the full error is in the log line.
        [DELIVERY_HEADERS.deadLetterDetail]: deadLetter.detail.slice(0, 1000),
        [DELIVERY_HEADERS.failedAt]: new Date().toISOString()
      }
    })
    await this.#publisher.publish(copy.envelope, copy.body)
  }

  async close (): Promise<void> {
    await this.#publisher.close()
  }
}

/** The exchange and routing key of the first publication, kept across retries. */
function originOf (message: ReceivedMessage): { [DELIVERY_HEADERS.originalExchange]: string, [DELIVERY_HEADERS.originalRoutingKey]: string } {
  const exchange = message.headers?.[DELIVERY_HEADERS.originalExchange]
  const routingKey = message.headers?.[DELIVERY_HEADERS.originalRoutingKey]
  return {
    [DELIVERY_HEADERS.originalExchange]: typeof exchange === 'string' ? exchange : message.exchange,
    [DELIVERY_HEADERS.originalRoutingKey]: typeof routingKey === 'string' ? routingKey : message.routingKey
  }
}
