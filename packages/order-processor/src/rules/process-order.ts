import { setTimeout as sleep } from 'node:timers/promises'
import { isFinalStatus, type ChangeOrderStatusBody, type Order, type OrderStatus } from '@orders/contracts'
import type { OrderStatusApi } from '../order-service-client.ts'
import type { PaymentLedger, PaymentStatus } from './payments.ts'

/**
 * The processor's rules: move a new order to `processing`, "authorize the payment" once
 * (a row in processor.payments) and move it to `completed` or `failed`. Every status change
 * is guarded by the order-service's state machine and the payment by the table's key, so a
 * redelivered message (the processor crashed, or lost its broker connection before the ack)
 * picks up where the last delivery stopped: it never moves an order twice, and never charges
 * twice — it reads the payment decision back instead of deciding again.
 */
export type ProcessingOutcome =
  /**
   * `resumed`: an earlier delivery had already moved the order to `processing`.
   * `charged`: this delivery recorded the payment (false: an earlier or concurrent one had).
   */
  | { outcome: 'completed', resumed: boolean, charged: boolean }
  | { outcome: 'payment_declined', resumed: boolean, charged: boolean }
  /** Nothing to do: an earlier delivery (or a concurrent one) finished the order. */
  | { outcome: 'already_processed', status: OrderStatus }
  | { outcome: 'order_not_found' }

export interface ProcessingSettings {
  /** Totals above this (minor units) are declined; equal is still accepted. */
  paymentLimit: number
  processingDelayMs: number
}

/** What the rules need besides the order-service: the same for every message. */
export interface RuleSettings extends ProcessingSettings {
  payments: PaymentLedger
  /** The payment provider's simulated latency; injected so the rules are tested without waiting. */
  wait?: (ms: number) => Promise<unknown>
}

export interface ProcessOrderDependencies extends RuleSettings {
  /** The order-service, bound to the message being processed (its request id, its logger). */
  orders: OrderStatusApi
}

/** The order-service holds the order in a state this processor never leaves it in; try again later. */
export class UnexpectedOrderStateError extends Error {
  override name = 'UnexpectedOrderStateError'
}

type FinalChange =
  | { status: 'completed' }
  | { status: 'failed', failure_reason: 'payment_declined' }

/** "Payment authorization": a pure limit check. */
export function decidePayment (total: number, paymentLimit: number): PaymentStatus {
  return total > paymentLimit ? 'declined' : 'authorized'
}

function finalChangeFor (payment: PaymentStatus): FinalChange {
  return payment === 'authorized'
    ? { status: 'completed' }
    : { status: 'failed', failure_reason: 'payment_declined' }
}

export async function processOrder (order: Pick<Order, 'id' | 'total'>, deps: ProcessOrderDependencies): Promise<ProcessingOutcome> {
  const started = await startProcessing(order.id, deps.orders)
  if (started.outcome !== 'started') return started

  const { payment, created } = await authorizePaymentOnce(order, started.resumed, deps)
  const change = finalChangeFor(payment.status)
  const finished = await deps.orders.patchStatus(order.id, change satisfies ChangeOrderStatusBody)
  switch (finished.outcome) {
    case 'ok':
      return change.status === 'completed'
        ? { outcome: 'completed', resumed: started.resumed, charged: created }
        : { outcome: 'payment_declined', resumed: started.resumed, charged: created }
    case 'not_found':
      return { outcome: 'order_not_found' }
    case 'conflict':
      // A concurrent delivery of the same message finished first.
      return await finishedElsewhere(order.id, deps.orders)
  }
}

/**
 * The decision is taken once and stored; every later delivery of the order reads it back, so
 * neither a redelivery nor a changed PAYMENT_LIMIT can charge twice or decide otherwise. Only a
 * delivery that resumes an order already `processing` can find a payment before deciding: a
 * payment is recorded only after the move to `processing`, which happens once, so when this
 * delivery made that move nobody has paid yet and the look-up is skipped (a concurrent
 * redelivery that raced it is settled by the table's key in recordOnce).
 */
async function authorizePaymentOnce (order: Pick<Order, 'id' | 'total'>, resumed: boolean, deps: ProcessOrderDependencies) {
  const recorded = resumed ? await deps.payments.find(order.id) : undefined
  if (recorded) return { payment: recorded, created: false }
  const status = decidePayment(order.total, deps.paymentLimit)
  // The payment provider's latency (simulated), paid only when a payment is authorized.
  if (status === 'authorized' && deps.processingDelayMs > 0) await (deps.wait ?? sleep)(deps.processingDelayMs)
  return await deps.payments.recordOnce({ orderId: order.id, amount: order.total, status })
}

async function startProcessing (orderId: string, orders: OrderStatusApi): Promise<{ outcome: 'started', resumed: boolean } | ProcessingOutcome> {
  const result = await orders.patchStatus(orderId, { status: 'processing' })
  if (result.outcome === 'ok') return { outcome: 'started', resumed: false }
  if (result.outcome === 'not_found') return { outcome: 'order_not_found' }

  // 409: the order is not `new` any more; an earlier delivery got at least this far.
  const current = await orders.getOrder(orderId)
  if (current.outcome === 'not_found') return { outcome: 'order_not_found' }
  const status = current.order.status
  if (status === 'processing') return { outcome: 'started', resumed: true }
  if (isFinalStatus(status)) return { outcome: 'already_processed', status }
  throw new UnexpectedOrderStateError(`moving order ${orderId} to processing was refused, yet it is ${status}`)
}

async function finishedElsewhere (orderId: string, orders: OrderStatusApi): Promise<ProcessingOutcome> {
  const current = await orders.getOrder(orderId)
  if (current.outcome === 'not_found') return { outcome: 'order_not_found' }
  const status = current.order.status
  if (isFinalStatus(status)) return { outcome: 'already_processed', status }
  throw new UnexpectedOrderStateError(`finishing order ${orderId} was refused, yet it is ${status}`)
}
