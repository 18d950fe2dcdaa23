import t from 'tap'
import type { AddressInfo } from 'node:net'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness } from './processor-harness.ts'

// The processor against a real broker (a vhost of its own) and a fake order-service.
// PAYMENT_LIMIT is 50 000 here.
const LIMIT = 50_000

const harness = await startProcessorHarness(t, { PAYMENT_LIMIT: String(LIMIT) })
const { orderService, processor, logs, waitFor } = harness

const logged = (orderId: string, msg: string) => () => logs.some(line => line.order_id === orderId && line.msg === msg)
const drained = async () => await harness.queueDepth() === 0
const successfulPatches = (orderId: string) => orderService.callsFor(orderId).filter(c => c.method === 'PATCH' && c.answered === 200)

t.test('an order within the limit ends completed: processing, then completed, with the service token and request id', async t => {
  const order = orderService.add(anOrder(LIMIT))
  await harness.publish(orderCreated(order), { requestId: 'req-within-limit' })

  t.match(await orderService.finalized(order.id), { status: 'completed', failure_reason: null })
  t.match(orderService.callsFor(order.id), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 200 }
  ])
  for (const call of orderService.callsFor(order.id)) {
    t.match(call, { authorization: /^Bearer token-\d+$/, requestId: 'req-within-limit', contentType: 'application/json' })
  }
  await waitFor('the completion to be logged', logged(order.id, 'order completed'))
  await waitFor('the queue to drain', drained)
  const lines = logs.filter(line => line.order_id === order.id)
  t.ok(lines.length > 0)
  for (const line of lines) t.equal(line.request_id, 'req-within-limit', `"${line.msg}" carries the request id`)
})

t.test('an order over the limit ends failed with payment_declined', async t => {
  const order = orderService.add(anOrder(LIMIT + 1))
  await harness.publish(orderCreated(order))

  t.match(await orderService.finalized(order.id), { status: 'failed', failure_reason: 'payment_declined' })
  t.match(orderService.callsFor(order.id), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 200 },
    { method: 'PATCH', body: { status: 'failed', failure_reason: 'payment_declined' }, answered: 200 }
  ])
  await waitFor('the queue to drain', drained)
})

t.test('a redelivered order_created for a completed order changes nothing and is acknowledged', async t => {
  const order = orderService.add(anOrder(100))
  const event = orderCreated(order)
  const { messageId } = await harness.publish(event, { requestId: 'req-twice' })
  await waitFor('the first delivery to finish', logged(order.id, 'order completed'))
  const completedAt = orderService.orders.get(order.id)?.updated_at

  await harness.publish(event, { messageId, requestId: 'req-twice' })
  await waitFor('the second delivery to be acknowledged', logged(order.id, 'order already processed; message acknowledged'))
  await waitFor('the queue to drain', drained)

  t.match(orderService.callsFor(order.id).slice(2), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 409 },
    { method: 'GET', answered: 200 }
  ])
  t.equal(orderService.callsFor(order.id).length, 4)
  t.equal(successfulPatches(order.id).length, 2, 'no extra status change')
  t.match(orderService.orders.get(order.id), { status: 'completed', updated_at: completedAt })
})

t.test('an order left in processing by a crashed delivery is completed', async t => {
  const order = orderService.add(anOrder(100, 'processing'))
  await harness.publish(orderCreated(order))

  t.match(await orderService.finalized(order.id), { status: 'completed' })
  t.match(orderService.callsFor(order.id), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 409 },
    { method: 'GET', answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 200 }
  ])
  await waitFor('the completion to be logged', () => logs.some(l => l.order_id === order.id && l.msg === 'order completed' && l.resumed === true))
  await waitFor('the queue to drain', drained)
})

t.test('a 503 from the order-service puts the message back; the retry succeeds', async t => {
  const requeuedBefore = processor.consumer.stats.requeued
  const order = orderService.add(anOrder(100))
  orderService.failNext({ method: 'PATCH', orderId: order.id, requested: 'processing' }, 503)
  await harness.publish(orderCreated(order))

  t.match(await orderService.finalized(order.id), { status: 'completed' })
  // Had the first delivery been acknowledged, nothing would have tried again.
  t.match(orderService.callsFor(order.id), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 503 },
    { method: 'PATCH', body: { status: 'processing' }, answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 200 }
  ])
  await waitFor('the completion to be logged', logged(order.id, 'order completed'))
  await waitFor('the queue to drain', drained)
  t.equal(processor.consumer.stats.requeued - requeuedBefore, 1)
  t.ok(logs.some(l => l.order_id === order.id && l.level === 40 && l.msg === 'processing failed; the message goes back to the queue'))
  t.ok(logs.some(l => l.order_id === order.id && l.msg === 'processing order' && l.redelivered === true), 'the retry is a redelivery')
})

t.test('a 503 on the final change: the redelivery resumes from processing', async t => {
  const order = orderService.add(anOrder(100))
  orderService.failNext({ method: 'PATCH', orderId: order.id, requested: 'completed' }, 503)
  await harness.publish(orderCreated(order))

  t.match(await orderService.finalized(order.id), { status: 'completed' })
  t.match(orderService.callsFor(order.id), [
    { method: 'PATCH', body: { status: 'processing' }, answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 503 },
    { method: 'PATCH', body: { status: 'processing' }, answered: 409 },
    { method: 'GET', answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 200 }
  ])
  await waitFor('the queue to drain', drained)
})

t.test('invalid messages are dropped, not requeued', async t => {
  const { dropped, requeued } = processor.consumer.stats
  await harness.publishRaw('{"type":"order_created",', 'application/json')
  const order = anOrder(100)
  await harness.publish({ ...orderCreated(order), version: 2 } as unknown as ReturnType<typeof orderCreated>, { requestId: 'req-v2' })

  await waitFor('both to be dropped', () => processor.consumer.stats.dropped === dropped + 2)
  await waitFor('the queue to drain', drained)
  t.equal(processor.consumer.stats.requeued, requeued)
  t.equal(orderService.callsFor(order.id).length, 0)
  const errors = logs.filter(l => l.msg === 'invalid order_created message dropped')
  t.match(errors, [
    { level: 50, order_id: null, request_id: String, reason: /not JSON/ },
    { level: 50, order_id: order.id, request_id: 'req-v2', reason: /order_created v1/ }
  ])
})

t.test('an order the order-service does not know is dropped with an error', async t => {
  const { dropped } = processor.consumer.stats
  const order = anOrder(100) // never added to the order-service
  await harness.publish(orderCreated(order))
  await waitFor('the message to be dropped', () => processor.consumer.stats.dropped === dropped + 1)
  await waitFor('the queue to drain', drained)
  t.match(orderService.callsFor(order.id), [{ method: 'PATCH', answered: 404 }])
  t.ok(logs.some(l => l.order_id === order.id && l.level === 50))
})

t.test('without an x-request-id the messageId is sent on as the request id', async t => {
  const order = orderService.add(anOrder(100))
  const { messageId } = await harness.publish(orderCreated(order), { requestId: null })
  await orderService.finalized(order.id)
  for (const call of orderService.callsFor(order.id)) t.equal(call.requestId, messageId)
  await waitFor('the queue to drain', drained)
})

t.test('readiness reports the broker connection', async t => {
  const { port } = processor.app.server.address() as AddressInfo
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
  t.equal(ready.status, 200)
  t.match(await ready.json(), { status: 'ready', checks: { broker: 'up' } })
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
})
