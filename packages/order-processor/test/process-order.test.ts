import t from 'tap'
import { canTransition, type ChangeOrderStatusBody, type OrderStatus } from '@orders/contracts'
import { TransientCallbackError, type OrderStatusApi } from '../src/order-callback-client.ts'
import { decidePayment, processOrder, UnexpectedOrderStateError } from '../src/process-order.ts'
import { anOrder } from './fixtures.ts'

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

async function process (total: number, orders: OrderStatusApi, waits: number[] = [], processingDelayMs = 0) {
  return await processOrder({ id: anOrder(total).id, total }, {
    orders,
    paymentLimit: LIMIT,
    processingDelayMs,
    wait: async ms => { waits.push(ms) }
  })
}

t.test('payment is authorized up to the limit and declined above it', async t => {
  t.same(decidePayment(LIMIT, LIMIT), { status: 'completed' })
  t.same(decidePayment(0, LIMIT), { status: 'completed' })
  t.same(decidePayment(LIMIT + 1, LIMIT), { status: 'failed', failure_reason: 'payment_declined' })
})

t.test('a new order within the limit goes to processing, then completed', async t => {
  const service = orderServiceHolding('new')
  t.same(await process(LIMIT, service.api), { outcome: 'completed', resumed: false })
  t.same(service.calls, ['PATCH processing', 'PATCH completed'])
  t.equal(service.status(), 'completed')
})

t.test('a new order over the limit goes to processing, then failed with payment_declined', async t => {
  const service = orderServiceHolding('new')
  t.same(await process(LIMIT + 1, service.api), { outcome: 'payment_declined', resumed: false })
  t.same(service.calls, ['PATCH processing', 'PATCH failed (payment_declined)'])
})

t.test('the processing delay is waited before completing, not before declining', async t => {
  const waits: number[] = []
  await process(1, orderServiceHolding('new').api, waits, 250)
  t.same(waits, [250])
  const declinedWaits: number[] = []
  await process(LIMIT + 1, orderServiceHolding('new').api, declinedWaits, 250)
  t.same(declinedWaits, [])
})

for (const final of ['completed', 'failed'] as const) {
  t.test(`a redelivered message for a ${final} order changes nothing`, async t => {
    const service = orderServiceHolding(final)
    t.same(await process(1, service.api), { outcome: 'already_processed', status: final })
    t.same(service.calls, ['PATCH processing', 'GET'])
    t.equal(service.status(), final)
  })
}

t.test('an order left in processing by a crashed delivery is finished', async t => {
  const service = orderServiceHolding('processing')
  t.same(await process(1, service.api), { outcome: 'completed', resumed: true })
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

t.test('a refused move to processing while the order is still new is an error (requeue), not an ack', async t => {
  const service = orderServiceHolding('new')
  service.api.patchStatus = async () => ({ outcome: 'conflict' })
  await t.rejects(process(1, service.api), UnexpectedOrderStateError)
})

t.test('a transient failure of the order-service reaches the caller', async t => {
  const service = orderServiceHolding('new')
  const patch = service.api.patchStatus
  service.api.patchStatus = async (id, change) => {
    if (change.status === 'completed') throw new TransientCallbackError('503')
    return await patch(id, change)
  }
  await t.rejects(process(1, service.api), TransientCallbackError)
  t.equal(service.status(), 'processing', 'the next delivery resumes from here')
})
