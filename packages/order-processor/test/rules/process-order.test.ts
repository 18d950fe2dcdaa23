import t from 'tap'
import { canTransition, type ChangeOrderStatusBody, type OrderStatus } from '@orders/contracts'
import { TransientOrderServiceError, type OrderStatusApi } from '../../src/order-service-client.ts'
import { decidePayment, processOrder, UnexpectedOrderStateError } from '../../src/rules/process-order.ts'
import type { Payment, PaymentLedger } from '../../src/rules/payments.ts'
import { anOrder } from '../fixtures.ts'

const LIMIT = 10_000

/**
 * The order-service's answers without HTTP: one order in memory behind the contracts' state
 * machine. `status: undefined` is an order it does not know. `beforeFinalPatch` lets a test
 * play a concurrent delivery that finishes the order first.
 */
function orderServiceHolding (status: OrderStatus | undefined, options: { beforeFinalPatch?: () => OrderStatus } = {}) {
  const order = anOrder(1)
  const calls: string[] = []
  let current = status
  const api: OrderStatusApi = {
    async patchStatus (_id, change: ChangeOrderStatusBody) {
      calls.push(`PATCH ${change.status}${change.failure_reason ? ` (${change.failure_reason})` : ''}`)
      if (change.status !== 'processing' && options.beforeFinalPatch) current = options.beforeFinalPatch()
      if (current === undefined) return { outcome: 'not_found' }
      if (!canTransition(current, change.status)) return { outcome: 'conflict' }
      current = change.status
      return { outcome: 'ok', order: { ...order, status: current } }
    },
    async getOrder () {
      calls.push('GET')
      return current === undefined ? { outcome: 'not_found' } : { outcome: 'ok', order: { ...order, status: current } }
    }
  }
  return { api, calls, status: () => current }
}

/** The payments table in memory: one row per order, the first one recorded wins. */
function paymentsHolding (...recorded: Payment[]) {
  const rows = new Map(recorded.map(payment => [payment.orderId, payment]))
  const ledger: PaymentLedger = {
    async find (orderId) { return rows.get(orderId) },
    async recordOnce (payment) {
      const existing = rows.get(payment.orderId)
      if (existing) return { payment: existing, created: false }
      rows.set(payment.orderId, payment)
      return { payment, created: true }
    }
  }
  return { ledger, rows }
}

const ORDER_ID = anOrder(1).id

async function process (total: number, orders: OrderStatusApi, options: { waits?: number[], processingDelayMs?: number, payments?: PaymentLedger } = {}) {
  return await processOrder({ id: ORDER_ID, total }, {
    orders,
    payments: options.payments ?? paymentsHolding().ledger,
    paymentLimit: LIMIT,
    processingDelayMs: options.processingDelayMs ?? 0,
    wait: async ms => { options.waits?.push(ms) }
  })
}

t.test('payment is authorized up to the limit and declined above it', async t => {
  t.equal(decidePayment(LIMIT, LIMIT), 'authorized')
  t.equal(decidePayment(0, LIMIT), 'authorized')
  t.equal(decidePayment(LIMIT + 1, LIMIT), 'declined')
})

t.test('a new order within the limit goes to processing, is charged once, then completed', async t => {
  const service = orderServiceHolding('new')
  const payments = paymentsHolding()
  t.same(await process(LIMIT, service.api, { payments: payments.ledger }), { outcome: 'completed', resumed: false, charged: true })
  t.same(service.calls, ['PATCH processing', 'PATCH completed'])
  t.equal(service.status(), 'completed')
  t.same([...payments.rows.values()], [{ orderId: ORDER_ID, amount: LIMIT, status: 'authorized' }])
})

t.test('a new order over the limit goes to processing, then failed with payment_declined', async t => {
  const service = orderServiceHolding('new')
  const payments = paymentsHolding()
  t.same(await process(LIMIT + 1, service.api, { payments: payments.ledger }), { outcome: 'payment_declined', resumed: false, charged: true })
  t.same(service.calls, ['PATCH processing', 'PATCH failed (payment_declined)'])
  t.same([...payments.rows.values()], [{ orderId: ORDER_ID, amount: LIMIT + 1, status: 'declined' }])
})

t.test('a recorded payment is read back, not decided again: no second charge, the same outcome', async t => {
  // Recorded as declined by an earlier delivery; the total would pass the limit today.
  const payments = paymentsHolding({ orderId: ORDER_ID, amount: 100, status: 'declined' })
  const service = orderServiceHolding('processing')
  const waits: number[] = []
  t.same(await process(100, service.api, { payments: payments.ledger, waits, processingDelayMs: 250 }), { outcome: 'payment_declined', resumed: true, charged: false })
  t.same(service.calls, ['PATCH processing', 'GET', 'PATCH failed (payment_declined)'])
  t.equal(payments.rows.size, 1)
  t.same(waits, [], 'no payment provider call for a payment already made')
})

t.test('the delivery that moved the order to processing records the payment without looking one up first (nobody can have paid yet)', async t => {
  const payments = paymentsHolding()
  const lookups: string[] = []
  const ledger: PaymentLedger = { ...payments.ledger, async find (orderId) { lookups.push(orderId); return await payments.ledger.find(orderId) } }
  t.same(await process(LIMIT, orderServiceHolding('new').api, { payments: ledger }), { outcome: 'completed', resumed: false, charged: true })
  t.same(lookups, [])
  t.equal(payments.rows.size, 1)
})

t.test('a final order is not charged', async t => {
  const payments = paymentsHolding()
  await process(1, orderServiceHolding('completed').api, { payments: payments.ledger })
  await process(1, orderServiceHolding('cancelled').api, { payments: payments.ledger })
  t.equal(payments.rows.size, 0)
})

t.test('the processing delay is waited before completing, not before declining', async t => {
  const waits: number[] = []
  await process(1, orderServiceHolding('new').api, { waits, processingDelayMs: 250 })
  t.same(waits, [250])
  const declinedWaits: number[] = []
  await process(LIMIT + 1, orderServiceHolding('new').api, { waits: declinedWaits, processingDelayMs: 250 })
  t.same(declinedWaits, [])
})

for (const final of ['completed', 'failed', 'cancelled'] as const) {
  t.test(`a redelivered message for a ${final} order changes nothing`, async t => {
    const service = orderServiceHolding(final)
    t.same(await process(1, service.api), { outcome: 'already_processed', status: final })
    t.same(service.calls, ['PATCH processing', 'GET'])
    t.equal(service.status(), final)
  })
}

t.test('an order left in processing by a crashed delivery is finished', async t => {
  const service = orderServiceHolding('processing')
  t.same(await process(1, service.api), { outcome: 'completed', resumed: true, charged: true })
  t.same(service.calls, ['PATCH processing', 'GET', 'PATCH completed'])
})

t.test('an order the order-service does not know is reported, without further calls', async t => {
  const service = orderServiceHolding(undefined)
  t.same(await process(1, service.api), { outcome: 'order_not_found' })
  t.same(service.calls, ['PATCH processing'])
})

t.test('a concurrent delivery that finished the order first is no error', async t => {
  const service = orderServiceHolding('new', { beforeFinalPatch: () => 'failed' })
  t.same(await process(1, service.api), { outcome: 'already_processed', status: 'failed' })
  t.same(service.calls, ['PATCH processing', 'PATCH completed', 'GET'])
})

t.test('a refused move to processing while the order is still new is an error (a retry), not an ack', async t => {
  const service = orderServiceHolding('new')
  service.api.patchStatus = async () => ({ outcome: 'conflict' })
  await t.rejects(process(1, service.api), UnexpectedOrderStateError)
})

t.test('a transient failure of the order-service reaches the caller', async t => {
  const service = orderServiceHolding('new')
  const patch = service.api.patchStatus
  service.api.patchStatus = async (id, change) => {
    if (change.status === 'completed') throw new TransientOrderServiceError('503')
    return await patch(id, change)
  }
  await t.rejects(process(1, service.api), TransientOrderServiceError)
  t.equal(service.status(), 'processing', 'the next delivery resumes from here')
})
