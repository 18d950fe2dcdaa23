import { EXCHANGES, QUEUES, type EventOrder } from '@orders/contracts'
import { copyOf, originOf, withoutBrokerHeaders, type PublishConfirmed, type ReceivedMessage } from './failed-messages.ts'

/**
 * The grace period: a new order is not processed before its `cancellable_until` (set by the
 * order-service from ORDER_GRACE_PERIOD_MS), so its owner can still cancel it. Rather than hold
 * the delivery (and a prefetch slot) while it waits, the processor sends a copy to the grace
 * queue with the time left as its TTL and acknowledges the original; when the TTL is over the
 * broker dead-letters the copy back to the work queue (doc/delivery.md, "The grace period").
 */

/** Milliseconds until the order may be processed; 0 when it may be now (or the event predates grace periods). */
export function graceRemainingMs (order: Pick<EventOrder, 'cancellable_until'>, now: number): number {
  if (order.cancellable_until === undefined) return 0
  return Math.max(0, Date.parse(order.cancellable_until) - now)
}

/** Publishes the waiting copy (confirmed); the caller then acknowledges the original. */
export async function deferUntilGraceEnds (message: ReceivedMessage, waitMs: number, publish: PublishConfirmed): Promise<void> {
  const headers = { ...withoutBrokerHeaders(message.headers), ...originOf(message) }
  const [envelope, body] = copyOf(message, EXCHANGES.processorDelay, QUEUES.orderGracePeriod, headers)
  // Rounded up: a message that expires a millisecond early would only come back here again.
  await publish({ ...envelope, expiration: String(Math.ceil(waitMs)) }, body)
}
