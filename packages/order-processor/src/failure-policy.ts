import { UnexpectedCallbackError } from './order-callback-client.ts'
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './delivery-headers.ts'

/**
 * What went wrong with one delivery, as far as trying again is concerned:
 * - `retryable`: the order-service was unreachable, slow, answered 5xx/429/401, the database
 *   was away, or an answer made no sense yet: later may work;
 * - `not_found`: the order-service does not know the order; it may be a moment behind, so
 *   this is retried too, but ends in the dead-letter queue under its own reason;
 * - `permanent`: no attempt can ever succeed (an invalid message, a 4xx refusal).
 */
export type Failure =
  | { kind: 'retryable', detail: string }
  | { kind: 'not_found', detail: string }
  | { kind: 'permanent', reason: DeadLetterReason, detail: string }

export type FailurePlan =
  /** Publish to the delay queue of `delayMs`, with `attempt` as its retry attempt. */
  | { action: 'retry', attempt: number, delayMs: number }
  | { action: 'dead_letter', reason: DeadLetterReason, detail: string }

// 401 is a token problem (the client renews it once; a second 401 is a misconfiguration
// someone can fix) and 409 a state the order can leave: neither proves the message bad.
const RETRYABLE_4XX = new Set([401, 408, 409, 429])

export function classifyError (err: unknown): Failure {
  const detail = err instanceof Error ? err.message : String(err)
  if (err instanceof UnexpectedCallbackError && err.status !== undefined &&
      err.status >= 400 && err.status < 500 && !RETRYABLE_4XX.has(err.status)) {
    return { kind: 'permanent', reason: DEAD_LETTER_REASONS.rejected, detail }
  }
  return { kind: 'retryable', detail }
}

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
