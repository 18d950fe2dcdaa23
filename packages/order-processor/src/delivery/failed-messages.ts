import type { Connection, Envelope, MessageBody, ReturnedMessage } from 'rabbitmq-client'
import {
  BROKER_HEADERS, DEAD_LETTER_REASONS, DELIVERY_HEADERS, EXCHANGES,
  delayQueueName, processorTopology, retryAttemptOf, type DeadLetterReason, type QuorumQueueOptions
} from '@orders/contracts'
import { UnexpectedOrderServiceAnswerError } from '../order-service-client.ts'

/**
 * Where a failed delivery goes, read top to bottom: what kind of failure it is, what to do
 * about it (wait in the next delay queue, or the dead-letter queue with a reason), and the copy
 * published there with confirms. The caller acknowledges the original only once the copy is
 * confirmed in a queue, so a crash in between leaves two copies (a redelivery), never none.
 * doc/delivery.md explains why the processor publishes these copies rather than rejecting the
 * message into the broker's dead-lettering.
 */

// 1. What went wrong, as far as trying again is concerned.
export type Failure =
  /** The order-service was unreachable, slow, answered 5xx/429/401, the database was away: later may work. */
  | { kind: 'retryable', detail: string }
  /** The order-service does not know the order; it may be a moment behind, so retried, under its own reason. */
  | { kind: 'not_found', detail: string }
  /** No attempt can ever succeed (an invalid message, a 4xx refusal). */
  | { kind: 'permanent', reason: DeadLetterReason, detail: string }

// 401 is a token problem (the client renews it once; a second 401 is a misconfiguration
// someone can fix) and 409 a state the order can leave: neither proves the message bad.
const RETRYABLE_4XX = new Set([401, 408, 409, 429])

export function classifyError (err: unknown): Failure {
  const detail = err instanceof Error ? err.message : String(err)
  if (err instanceof UnexpectedOrderServiceAnswerError && err.status !== undefined &&
      err.status >= 400 && err.status < 500 && !RETRYABLE_4XX.has(err.status)) {
    return { kind: 'permanent', reason: DEAD_LETTER_REASONS.rejected, detail }
  }
  return { kind: 'retryable', detail }
}

// 2. What to do about it.
export type FailurePlan =
  /** Publish to the delay queue of `delayMs`, with `attempt` as its retry attempt. */
  | { action: 'retry', attempt: number, delayMs: number }
  | { action: 'dead_letter', reason: DeadLetterReason, detail: string }

/**
 * Retry `retriesSoFar + 1` waits `delaysMs[retriesSoFar]`; once every delay has been used the
 * message is dead-lettered. Delays only grow if configured so (the defaults do).
 */
export function planAfter (failure: Failure, retriesSoFar: number, delaysMs: readonly number[]): FailurePlan {
  if (failure.kind === 'permanent') return { action: 'dead_letter', reason: failure.reason, detail: failure.detail }
  const delayMs = delaysMs[retriesSoFar]
  if (delayMs !== undefined) return { action: 'retry', attempt: retriesSoFar + 1, delayMs }
  const reason = failure.kind === 'not_found' ? DEAD_LETTER_REASONS.orderNotFound : DEAD_LETTER_REASONS.retriesExhausted
  return { action: 'dead_letter', reason, detail: `${failure.detail} (after ${retriesSoFar} ${retriesSoFar === 1 ? 'retry' : 'retries'})` }
}

// 3. The copy, and where it is published.

/** The parts of a received message (AsyncMessage or SyncMessage) a copy is made of. */
export interface ReceivedMessage {
  body: MessageBody
  exchange: string
  routingKey: string
  headers?: Record<string, unknown>
  contentType?: string
  contentEncoding?: string
  correlationId?: string
  messageId?: string
  timestamp?: number
  type?: string
  appId?: string
}

/** Resolves once the broker has the message in a queue (see createConfirmedPublisher). */
export type PublishConfirmed = (envelope: Envelope, body: MessageBody) => Promise<void>

/** Plans the failed delivery's next step and publishes its copy there; resolves with the plan once confirmed. */
export async function routeFailedMessage (
  message: ReceivedMessage, failure: Failure, options: { retryDelaysMs: readonly number[], publish: PublishConfirmed }
): Promise<FailurePlan> {
  const plan = planAfter(failure, retryAttemptOf(message.headers), options.retryDelaysMs)
  const origin = originOf(message)
  const headers: Record<string, unknown> = { ...withoutBrokerHeaders(message.headers), ...origin }
  if (plan.action === 'retry') {
    headers[DELIVERY_HEADERS.retryAttempt] = plan.attempt
    await options.publish(...copyOf(message, EXCHANGES.processorDelay, delayQueueName(plan.delayMs), headers))
  } else {
    headers[DELIVERY_HEADERS.deadLetterReason] = plan.reason
    // Header values travel in every frame; the full error is in the log line.
    headers[DELIVERY_HEADERS.deadLetterDetail] = plan.detail.slice(0, 1000)
    headers[DELIVERY_HEADERS.failedAt] = new Date().toISOString()
    await options.publish(...copyOf(message, EXCHANGES.processorDeadLetter, origin[DELIVERY_HEADERS.originalRoutingKey], headers))
  }
  return plan
}

export function withoutBrokerHeaders (headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const drop = new Set<string>(BROKER_HEADERS)
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !drop.has(name)))
}

/** The exchange and routing key of the first publication, kept across retries. */
export function originOf (message: ReceivedMessage): Record<typeof DELIVERY_HEADERS.originalExchange | typeof DELIVERY_HEADERS.originalRoutingKey, string> {
  const exchange = message.headers?.[DELIVERY_HEADERS.originalExchange]
  const routingKey = message.headers?.[DELIVERY_HEADERS.originalRoutingKey]
  return {
    [DELIVERY_HEADERS.originalExchange]: typeof exchange === 'string' ? exchange : message.exchange,
    [DELIVERY_HEADERS.originalRoutingKey]: typeof routingKey === 'string' ? routingKey : message.routingKey
  }
}

/** Same body, id, request id and content type, persistent, with new headers. */
export function copyOf (message: ReceivedMessage, exchange: string, routingKey: string, headers: Record<string, unknown>): [Envelope, MessageBody] {
  const { contentType, contentEncoding, correlationId, messageId, timestamp, type, appId } = message
  // rabbitmq-client parsed application/json and text/plain bodies; it serialises them back
  // under the same content type. Anything else is still the Buffer that arrived.
  return [{ exchange, routingKey, durable: true, headers, contentType, contentEncoding, correlationId, messageId, timestamp, type, appId }, message.body]
}

/** The broker confirmed the message but no queue took it (a queue deleted under us). */
export class UnroutableMessageError extends Error {
  override name = 'UnroutableMessageError'
}

/**
 * Declares everything the processor owns: the work queue and its bindings, the delay queues
 * and the dead-letter queue. Run on every (re)connect, so the dead-letter queue exists before
 * the broker or the processor first sends a message there.
 */
export async function declareProcessorTopology (connection: Connection, retryDelaysMs: readonly number[], queues: QuorumQueueOptions = {}): Promise<void> {
  const topology = processorTopology(retryDelaysMs, queues)
  for (const exchange of topology.exchanges) await connection.exchangeDeclare({ ...exchange })
  for (const queue of topology.queues) await connection.queueDeclare(queue)
  for (const binding of topology.queueBindings) await connection.queueBind(binding)
}

/**
 * A confirming publisher for the copies. A confirm alone does not prove delivery: a `mandatory`
 * message no queue takes (a queue deleted under us) is returned (basic.return) and then
 * confirmed all the same. The return arrives first, so it is recorded and checked after the
 * confirm.
 */
export function createConfirmedPublisher (connection: Connection): { publish: PublishConfirmed, close: () => Promise<void> } {
  const publisher = connection.createPublisher({ confirm: true })
  const returned = new Map<string, number>()
  const keyOf = (message: { exchange?: string, routingKey?: string, messageId?: string }) =>
    `${message.exchange ?? ''}\u0000${message.routingKey ?? ''}\u0000${message.messageId ?? ''}`
  publisher.on('basic.return', (message: ReturnedMessage) => {
    const key = keyOf(message)
    returned.set(key, (returned.get(key) ?? 0) + 1)
  })
  return {
    async publish (envelope, body) {
      await publisher.send({ ...envelope, mandatory: true }, body)
      const key = keyOf(envelope)
      const count = returned.get(key)
      if (count === undefined) return
      if (count > 1) returned.set(key, count - 1)
      else returned.delete(key)
      throw new UnroutableMessageError(`no queue took the message ${envelope.messageId ?? ''} sent to "${envelope.exchange ?? ''}" with routing key "${envelope.routingKey ?? ''}"`)
    },
    async close () { await publisher.close() }
  }
}
