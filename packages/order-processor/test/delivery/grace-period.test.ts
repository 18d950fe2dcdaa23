import t from 'tap'
import { QUEUES } from '@orders/contracts'
import { graceRemainingMs } from '../../src/delivery/grace-period.ts'
import { anOrder, orderCreated } from '../fixtures.ts'
import { startProcessorHarness } from '../processor-harness.ts'

// The grace period against a real broker: the order waits in the grace queue (its own TTL),
// the processor's other work goes on meanwhile, and a cancel inside the window wins.
const GRACE_MS = 1_500

const harness = await startProcessorHarness(t)
const { orderService, logs, waitFor } = harness
const inGrace = (total: number) => {
  const order = anOrder(total)
  return orderService.add({ ...order, cancellable_until: new Date(Date.parse(order.created_at) + GRACE_MS).toISOString() })
}

t.test('the time left comes from cancellable_until; an event without one waits for nothing', async t => {
  t.equal(graceRemainingMs({ cancellable_until: '2030-01-01T00:00:10.000Z' }, Date.parse('2030-01-01T00:00:07.500Z')), 2_500)
  t.equal(graceRemainingMs({ cancellable_until: '2030-01-01T00:00:10.000Z' }, Date.parse('2030-01-01T00:00:12Z')), 0)
  t.equal(graceRemainingMs({}, Date.now()), 0)
})

t.test('an order is not touched before its grace period ends, and other orders go on meanwhile', async t => {
  const waiting = inGrace(100)
  await harness.publish(orderCreated(waiting))
  await waitFor('the order to wait in the grace queue', async () => await harness.readyMessages(QUEUES.orderGracePeriod) === 1)
  t.same(orderService.callsFor(waiting.id), [], 'no call to the order-service yet')

  // The processor is not held up by the waiting order.
  const other = orderService.add(anOrder(200))
  await harness.publish(orderCreated(other))
  t.equal((await orderService.finalized(other.id)).status, 'completed')
  t.same(orderService.callsFor(waiting.id), [], 'the first order still waits')

  const finished = await orderService.finalized(waiting.id)
  t.equal(finished.status, 'completed')
  const firstCall = orderService.calls.find(call => call.orderId === waiting.id)!
  t.ok(firstCall.at >= Date.parse(waiting.cancellable_until), 'the first call came after cancellable_until')
})

t.test('a cancel inside the window always wins: the processor skips the order and charges nothing', async t => {
  const order = inGrace(300)
  await harness.publish(orderCreated(order))
  await waitFor('the order to wait in the grace queue', async () => await harness.readyMessages(QUEUES.orderGracePeriod) === 1)
  orderService.orders.get(order.id)!.status = 'cancelled' // the owner cancels
  await waitFor('the processor to skip it', () => logs.some(line => line.order_id === order.id && line.msg === 'order already processed; message acknowledged'), 10_000)
  t.match(orderService.callsFor(order.id), [{ method: 'PATCH', body: { status: 'processing' }, answered: 409 }, { method: 'GET' }])
  t.same(await harness.paymentsFor(order.id), [])
})
