import t from 'tap'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, QUEUES, ROUTING_KEYS } from '@orders/contracts'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness } from './processor-harness.ts'
import type { FakeOrderService } from './fake-order-service.ts'

// A broker upgraded from the classic work queue: what waited there is processed, and the old
// queue stops collecting copies of every order_created.

t.test('the legacy classic queue is drained into the work queue and deleted', async t => {
  const waiting = [anOrder(100), anOrder(200)]
  const harness = await startProcessorHarness(t, {}, {
    async beforeStart (vhost) {
      // As earlier versions left it: a classic durable queue bound to orders.events, with messages.
      const connection = new Connection({ url: vhost.url, connectionName: 'legacy-setup' })
      const publisher = connection.createPublisher({
        confirm: true,
        exchanges: [{ exchange: EXCHANGES.orderEvents, type: 'topic', durable: true }],
        queues: [{ queue: QUEUES.legacyOrderProcessing, durable: true }],
        queueBindings: [{ exchange: EXCHANGES.orderEvents, queue: QUEUES.legacyOrderProcessing, routingKey: ROUTING_KEYS.orderCreated }]
      })
      for (const order of waiting) {
        await publisher.send({ exchange: EXCHANGES.orderEvents, routingKey: ROUTING_KEYS.orderCreated, durable: true, messageId: order.id, headers: { 'x-request-id': `req-${order.id}` } }, orderCreated(order))
      }
      await publisher.close()
      await connection.close()
    }
  })
  const orderService: FakeOrderService = harness.orderService
  for (const order of waiting) orderService.add(order)
  // The orders were added after the messages were queued; the 404s go through the retry path.
  await harness.processor.legacyQueueRetired

  for (const order of waiting) t.match(await orderService.finalized(order.id), { status: 'completed' })
  for (const order of waiting) t.ok(orderService.callsFor(order.id).every(call => call.requestId === `req-${order.id}`), 'the request id came along')
  t.ok(harness.logs.some(l => l.msg === 'legacy classic queue retired; its messages moved to the work queue' && l.moved === 2))
  await t.rejects(harness.connection.queueDeclare({ queue: QUEUES.legacyOrderProcessing, passive: true }), { code: 'NOT_FOUND' }, 'the legacy queue is gone')

  const later = orderService.add(anOrder(300))
  await harness.publish(orderCreated(later))
  t.match(await orderService.finalized(later.id), { status: 'completed' })
})

t.test('without a legacy queue there is nothing to do', async t => {
  const harness = await startProcessorHarness(t)
  await harness.processor.legacyQueueRetired
  t.notOk(harness.logs.some(l => /legacy/.test(l.msg)))
})
