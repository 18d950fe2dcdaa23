import t from 'tap'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness } from './processor-harness.ts'

t.test('closing lets the order in flight finish and acknowledges it', async t => {
  const harness = await startProcessorHarness(t, { PROCESSING_DELAY_MS: '300' })
  const { orderService, processor } = harness
  const order = orderService.add(anOrder(100))
  await harness.publish(orderCreated(order))
  await harness.waitFor('the order to be in processing', () => orderService.orders.get(order.id)?.status === 'processing')

  await processor.close()

  t.equal(orderService.orders.get(order.id)?.status, 'completed')
  t.equal(processor.consumer.stats.acknowledged, 1)
  t.equal(await harness.queueDepth(), 0, 'nothing left for the next process')
})
