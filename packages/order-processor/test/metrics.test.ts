import t from 'tap'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness } from './processor-harness.ts'

// The processor's /metrics after a few deliveries with known endings (PAYMENT_LIMIT 50 000).
const harness = await startProcessorHarness(t, { PAYMENT_LIMIT: '50000' })
const { orderService, processor, waitFor } = harness

async function metricValue (name: string, labels: Record<string, string>): Promise<number | undefined> {
  const body = (await processor.app.inject({ url: '/metrics' })).body
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',')
  const line = body.split('\n').find(l => l.startsWith(`${name}{${wanted}}`))
  return line === undefined ? undefined : Number(line.split(' ').pop())
}

t.test('/metrics counts deliveries by how they ended, dead letters by reason, and the queues\' depth', async t => {
  const completed = orderService.add(anOrder(100))
  const declined = orderService.add(anOrder(50_001))
  const retried = orderService.add(anOrder(200))
  orderService.failNext({ method: 'PATCH', orderId: retried.id, requested: 'processing' }, 503)
  for (const order of [completed, declined, retried]) await harness.publish(orderCreated(order))
  await harness.publishRaw('not json', 'application/json')
  for (const order of [completed, declined, retried]) await orderService.finalized(order.id)
  await waitFor('the invalid message to be dead-lettered', async () => await metricValue('order_processor_dead_letters_total', { reason: 'invalid_message' }) === 1)
  // The counter moves once the order-service's answer is read, a moment after it answered.
  await waitFor('every delivery to be counted', async () => await metricValue('order_processor_messages_total', { result: 'completed' }) === 2 &&
    await metricValue('order_processor_messages_total', { result: 'payment_declined' }) === 1)

  t.equal(await metricValue('order_processor_messages_total', { result: 'completed' }), 2, 'the first order, and the retried one on its second delivery')
  t.equal(await metricValue('order_processor_messages_total', { result: 'payment_declined' }), 1)
  t.equal(await metricValue('order_processor_messages_total', { result: 'retried' }), 1)
  t.equal(await metricValue('order_processor_messages_total', { result: 'dead_lettered' }), 1)
  t.equal(await metricValue('order_processor_queue_messages', { queue: 'order-processor.dead-letters' }), 1, 'the dead-letter queue holds it')
  t.equal(await metricValue('order_processor_queue_messages', { queue: 'order-processor.order_created.quorum' }), 0, 'the work queue is empty')
  t.ok((await metricValue('db_pool_connections', { pool: 'order-processor', state: 'max' })) === 4, 'the processor\'s pool is reported')
})
