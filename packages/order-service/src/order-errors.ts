import { DomainError } from '@orders/platform'
import type { OrderStatus } from '@orders/contracts'

/**
 * What the orders domain refuses. Thrown by the repository and the cursor; the platform's
 * error handler answers each with the status of its kind (400, 404, 409) and its message.
 */

/** An unknown order, or one the caller may not see (another user's): the same answer, so ids cannot be probed. */
export class OrderNotFoundError extends DomainError {
  readonly kind = 'not_found'
  constructor () { super('Order not found') }
}

/** A move the state machine (contracts/src/order-status.ts) does not allow from the order's current status. */
export class IllegalTransitionError extends DomainError {
  readonly kind = 'conflict'
  constructor (readonly from: OrderStatus, readonly to: OrderStatus) {
    super(to === 'cancelled'
      ? `Only a new order can be cancelled; this one is ${from}`
      : `An order in status "${from}" cannot move to "${to}"`)
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  readonly kind = 'conflict'
  constructor () { super('This Idempotency-Key was already used with a different request body') }
}

/** A `cursor` that does not decode: the client's mistake, since it is opaque and only passed back. */
export class InvalidCursorError extends DomainError {
  readonly kind = 'invalid_request'
  constructor () { super('The cursor is not one this API issued; start again without it') }
}

/** The processor asked for an order before its grace period ended: the owner may still cancel it. */
export class GracePeriodNotOverError extends DomainError {
  readonly kind = 'conflict'
  constructor (readonly cancellableUntil: Date) {
    super(`The order may still be cancelled until ${cancellableUntil.toISOString()}; it cannot be processed before then`)
  }
}
