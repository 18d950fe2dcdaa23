import t from 'tap'
import { createTestDatabase } from '@orders/test-support'
import { PaymentRepository } from '../../src/rules/payments.ts'
import { anOrder, orderCreated } from '../fixtures.ts'
import { startProcessorHarness } from '../processor-harness.ts'

// Exactly-once effect: duplicated deliveries are expected, a duplicated payment is a bug.

t.test('payments repository (real PostgreSQL)', async t => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const payments = new PaymentRepository(database.as('order-processor'))

  t.test('ten concurrent recordings of one order leave one row; all of them get that row', async t => {
    const orderId = anOrder(1).id
    // Different decisions on purpose: whichever lands first is the one everybody reads back.
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) =>
      await payments.recordOnce({ orderId, amount: 700, status: i % 2 === 0 ? 'authorized' : 'declined' })))
    t.equal(results.filter(r => r.created).length, 1, 'exactly one recording created the payment')
    const stored = await payments.find(orderId)
    for (const result of results) t.same(result.payment, stored)
    const { count } = await database.db.withSchema('processor').selectFrom('payments')
      .select(eb => eb.fn.countAll<number>().as('count')).where('order_id', '=', orderId).executeTakeFirstOrThrow()
    t.equal(Number(count), 1)
  })

  t.test('an order without a payment has none', async t => {
    t.equal(await payments.find(anOrder(1).id), undefined)
  })
})

t.test('two deliveries of one order_created racing in the processor charge once', async t => {
  // The payment provider's latency keeps both deliveries between "no payment yet" and the insert.
  const harness = await startProcessorHarness(t, { PROCESSING_DELAY_MS: '300' })
  const { orderService } = harness
  const order = orderService.add(anOrder(100))
  const event = orderCreated(order)
  const { messageId } = await harness.publish(event)
  await harness.publish(event, { messageId })

  t.match(await orderService.finalized(order.id), { status: 'completed' })
  await harness.waitFor('both deliveries to be settled', () => harness.processor.consumer.stats.acknowledged === 2)
  t.same(await harness.paymentsFor(order.id), [{ order_id: order.id, amount: 100, status: 'authorized' }])
  const finalPatches = orderService.callsFor(order.id).filter(c => c.method === 'PATCH' && c.requested === 'completed')
  t.match(finalPatches.map(c => c.answered).sort(), [200, 409], 'both deliveries got past the payment; one completed the order')
  const settled = harness.logs.filter(l => l.order_id === order.id && (l.msg === 'order completed' || l.msg === 'order already processed; message acknowledged'))
  t.equal(settled.length, 2)
  await harness.waitFor('the queue to drain', async () => await harness.queueDepth() === 0)
})
