/**
 * The order state machine: the one place that says which status may follow which.
 *
 *   new ──▶ processing ──▶ completed
 *    │                └──▶ failed
 *    └──▶ cancelled            (by the owner, only while the order is still new)
 *
 * Everything else (including moving a final order, or staying in place) is an
 * illegal transition, answered with 409 by the order-service. Because a transition is
 * checked against the row as it is in the database (a compare-and-set), a cancel and the
 * processor racing on one order cannot both win: the order ends cancelled or processed.
 */
export const ORDER_STATUSES = ['new', 'processing', 'completed', 'failed', 'cancelled'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

const allowedNext: Record<OrderStatus, readonly OrderStatus[]> = {
  new: ['processing', 'cancelled'],
  processing: ['completed', 'failed'],
  completed: [],
  failed: [],
  cancelled: []
}

export function canTransition (from: OrderStatus, to: OrderStatus): boolean {
  return allowedNext[from].includes(to)
}

/**
 * The one status an order must be in to move to `target` (undefined: nothing moves there).
 * Every status is reached from one status at most (a test holds the table to that), so a status
 * change is a single compare-and-set: `UPDATE … WHERE status = <this>`.
 */
export function predecessorOf (target: OrderStatus): OrderStatus | undefined {
  return ORDER_STATUSES.find(from => allowedNext[from].includes(target))
}

export function isFinalStatus (status: OrderStatus): boolean {
  return allowedNext[status].length === 0
}

/** Why a payment can fail; `failure_reason` is required exactly when the status is `failed`. */
export const FAILURE_REASONS = ['payment_declined'] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]
