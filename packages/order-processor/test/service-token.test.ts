import t from 'tap'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness } from './processor-harness.ts'

// A file of its own so that no other test's messages touch the token count.
const harness = await startProcessorHarness(t, { PROCESSOR_PREFETCH: '8' })
const { orderService } = harness

async function processOrders (count: number) {
  const orders = Array.from({ length: count }, () => orderService.add(anOrder(100)))
  await Promise.all(orders.map(async order => await harness.publish(orderCreated(order))))
  await Promise.all(orders.map(async order => await orderService.finalized(order.id)))
  await harness.waitFor('the queue to drain', async () => await harness.queueDepth() === 0)
  return orders
}

t.test('one service token serves many messages processed at once', async t => {
  await processOrders(24)
  t.equal(orderService.tokensIssued, 1)
  t.ok(orderService.calls.every(call => call.authorization === 'Bearer token-1'))
})

t.test('after a 401 the token is fetched again, once, and the messages still go through', async t => {
  orderService.revokeTokens()
  const before = orderService.calls.length
  const orders = await processOrders(12)

  t.equal(orderService.tokensIssued, 2)
  const calls = orderService.calls.slice(before)
  t.ok(calls.some(call => call.answered === 401), 'the old token was refused')
  t.ok(calls.filter(call => call.answered !== 401).every(call => call.authorization === 'Bearer token-2'))
  for (const order of orders) t.equal(orderService.orders.get(order.id)?.status, 'completed')
})
