import { setTimeout as sleep } from 'node:timers/promises'
import { isFinalStatus, type ChangeOrderStatusBody, type Order, type OrderStatus } from '@orders/contracts'
import type { OrderStatusApi } from './order-callback-client.ts'

/**
 * The processor's rules: move a new order to `processing`, "authorize the payment" and move
 * it to `completed` or `failed`. Every step is guarded by the order-service's state machine,
 * so a redelivered message (the processor crashed, or lost its broker connection before
 * the ack) picks up where the last delivery stopped and never moves an order twice.
 */
export type ProcessingOutcome =
  /** `resumed`: an earlier delivery had already moved the order to `processing`. */
  | { outcome: 'completed', resumed: boolean }
  | { outcome: 'payment_declined', resumed: boolean }
  /** Nothing to do: an earlier delivery (or a concurrent one) finished the order. */
  | { outcome: 'already_processed', status: OrderStatus }
  | { outcome: 'order_not_found' }

export interface ProcessingSettings {
  /** Totals above this (minor units) are declined; equal is still accepted. */
  paymentLimit: number
  processingDelayMs: number
}

export interface ProcessOrderDependencies extends ProcessingSettings {
  orders: OrderStatusApi
  /** Injected so the rules are tested without waiting. */
  wait?: (ms: number) => Promise<unknown>
}

/** The order-service holds the order in a state this processor never leaves it in; try again later. */
export class UnexpectedOrderStateError extends Error {
  override name = 'UnexpectedOrderStateError'
}

type FinalChange =
  | { status: 'completed' }
  | { status: 'failed', failure_reason: 'payment_declined' }

/** "Payment authorization": a pure limit check. Deterministic, so a redelivery decides the same. */
export function decidePayment (total: number, paymentLimit: number): FinalChange {
  return total > paymentLimit
    ? { status: 'failed', failure_reason: 'payment_declined' }
    : { status: 'completed' }
}

export async function processOrder (order: Pick<Order, 'id' | 'total'>, deps: ProcessOrderDependencies): Promise<ProcessingOutcome> {
  const started = await startProcessing(order.id, deps.orders)
  if (started.outcome !== 'started') return started

  const change = decidePayment(order.total, deps.paymentLimit)
  if (change.status === 'completed' && deps.processingDelayMs > 0) {
    await (deps.wait ?? sleep)(deps.processingDelayMs)
  }
  const finished = await deps.orders.patchStatus(order.id, change satisfies ChangeOrderStatusBody)
  switch (finished.outcome) {
    case 'ok':
      return change.status === 'completed'
        ? { outcome: 'completed', resumed: started.resumed }
        : { outcome: 'payment_declined', resumed: started.resumed }
    case 'not_found':
      return { outcome: 'order_not_found' }
    case 'conflict':
      // A concurrent delivery of the same message finished first.
      return await finishedElsewhere(order.id, deps.orders)
  }
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
