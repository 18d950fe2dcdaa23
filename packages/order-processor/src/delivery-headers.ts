/**
 * The headers the processor adds to the copies it sends down the retry and dead-letter paths
 * (doc/delivery.md). The broker's own (`x-death`, `x-first-death-*`, `x-delivery-count`) are
 * left to the broker: copies drop them, the dead-letter CLI reads them.
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

/** Headers the broker sets on delivery or dead-lettering; a fresh copy must not carry them. */
const BROKER_HEADERS = ['x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason', 'x-delivery-count']

export function withoutBrokerHeaders (headers: Record<string, unknown> | undefined, alsoDrop: readonly string[] = []): Record<string, unknown> {
  const drop = new Set([...BROKER_HEADERS, ...alsoDrop])
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !drop.has(name)))
}

/** The retry attempt a delivery carries (0: never retried); anything unreadable counts as 0. */
export function retryAttemptOf (headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.[DELIVERY_HEADERS.retryAttempt] ?? 0)
  return Number.isInteger(value) && value > 0 ? value : 0
}
