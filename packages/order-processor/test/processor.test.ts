import t from 'tap'
import type { AddressInfo } from 'node:net'
import { anOrder, orderCreated } from './fixtures.ts'
import { startProcessorHarness, TEST_RETRY_DELAYS_MS as RETRY_DELAYS_MS } from './processor-harness.ts'

// The processor against a real broker (a vhost of its own), a real database and a fake
// order-service. PAYMENT_LIMIT is 50 000 here; the retry delays are 200 and 400 ms.
const LIMIT = 50_000
const FIRST_DELAY_MS = RETRY_DELAYS_MS[0]!

const harness = await startProcessorHarness(t, { PAYMENT_LIMIT: String(LIMIT) })
const { orderService, processor, logs, waitFor } = harness

const logged = (orderId: string, msg: string) => () => logs.some(line => line.order_id === orderId && line.msg === msg)
const drained = async () => await harness.queueDepth() === 0
const successfulPatches = (orderId: string) => orderService.callsFor(orderId).filter(c => c.method === 'PATCH' && c.answered === 200)

/** Waits until the message is in the dead-letter queue and describes it. */
async function deadLetterOf (messageId: string) {
  let found
  await waitFor(`message ${messageId} in the dead-letter queue`, async () => {
    found = (await harness.deadLetters.list()).deadLetters.find(d => d.messageId === messageId)
    return found !== undefined
  })
  return found
}

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

t.test('a 503 goes through the delay queue and succeeds later: spaced attempts, no requeue', async t => {
  const requeuedBefore = processor.consumer.stats.requeued
  const order = orderService.add(anOrder(100))
  orderService.failNext({ method: 'PATCH', orderId: order.id, requested: 'processing' }, 503)
  const { messageId } = await harness.publish(orderCreated(order), { requestId: 'req-503' })

  t.match(await orderService.finalized(order.id), { status: 'completed' })
  const calls = orderService.callsFor(order.id)
  t.match(calls, [
    { method: 'PATCH', body: { status: 'processing' }, answered: 503 },
    { method: 'PATCH', body: { status: 'processing' }, answered: 200 },
    { method: 'PATCH', body: { status: 'completed' }, answered: 200 }
  ])
  t.ok(calls[1]!.at - calls[0]!.at >= FIRST_DELAY_MS - 20, `the retry waited the first delay (${calls[1]!.at - calls[0]!.at} ms)`)
  t.equal(processor.consumer.stats.requeued - requeuedBefore, 0, 'never handed back to the head of the queue')
  await waitFor('the completion to be logged', logged(order.id, 'order completed'))
  t.ok(logs.some(l => l.order_id === order.id && l.request_id === 'req-503' && l.level === 40 &&
    l.msg === 'processing failed; retrying after a delay' && l.retry_attempt === 1 && l.retry_in_ms === FIRST_DELAY_MS))
  t.ok(logs.some(l => l.order_id === order.id && l.message_id === messageId && l.msg === 'order completed' && l.retry_attempt === 1),
    'the retry is the same message, one retry on')
  await waitFor('the queue to drain', drained)
  t.equal((await harness.paymentsFor(order.id)).length, 1)
})

t.test('a 503 on the final change: the retry resumes from processing and reuses the payment', async t => {
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
  await waitFor('the completion to be logged', logged(order.id, 'order completed'))
  t.ok(logs.some(l => l.order_id === order.id && l.msg === 'order completed' && l.charged === false), 'the payment of the first attempt was read back')
  t.same(await harness.paymentsFor(order.id), [{ order_id: order.id, amount: 100, status: 'authorized' }])
  await waitFor('the queue to drain', drained)
})

t.test('a 503 on every attempt: after the last delay the message is in the dead-letter queue with its reason', async t => {
  const order = orderService.add(anOrder(100))
  orderService.failNext({ method: 'PATCH', orderId: order.id, requested: 'processing' }, 503, 1 + RETRY_DELAYS_MS.length)
  const { messageId } = await harness.publish(orderCreated(order), { requestId: 'req-exhausted' })

  const deadLetter = await deadLetterOf(messageId)
  t.match(deadLetter, { orderId: order.id, requestId: 'req-exhausted', reason: 'retries_exhausted', detail: /503.*after 2 retries/, retryAttempts: 2, failedAt: String })
  const calls = orderService.callsFor(order.id)
  t.equal(calls.length, 3, 'the first attempt and one per delay')
  RETRY_DELAYS_MS.forEach((delay, i) => {
    const gap = calls[i + 1]!.at - calls[i]!.at
    t.ok(gap >= delay - 20, `retry ${i + 1} waited ${delay} ms (${gap} ms)`)
  })
  t.equal(orderService.orders.get(order.id)?.status, 'new')
  t.ok(logs.some(l => l.order_id === order.id && l.request_id === 'req-exhausted' && l.level === 50 && l.msg === 'message sent to the dead-letter queue'))
  t.same(await harness.paymentsFor(order.id), [])
  await waitFor('the work queue to drain', drained)
  await harness.deadLetters.replay({ messageIds: [messageId] })
  t.match(await orderService.finalized(order.id), { status: 'completed' }, 'replayed once the order-service answers again')
})

t.test('invalid messages go straight to the dead-letter queue, with the reason in their headers', async t => {
  const { messageId: notJson } = await harness.publishRaw('{"type":"order_created",', 'application/json')
  const order = anOrder(100)
  const { messageId: v2 } = await harness.publish({ ...orderCreated(order), version: 2 } as unknown as ReturnType<typeof orderCreated>, { requestId: 'req-v2' })

  t.match(await deadLetterOf(notJson), { reason: 'invalid_message', detail: /not JSON/, retryAttempts: 0, orderId: undefined })
  t.match(await deadLetterOf(v2), { reason: 'invalid_message', detail: /order_created v1/, orderId: order.id, requestId: 'req-v2' })
  await waitFor('the queue to drain', drained)
  t.equal(orderService.callsFor(order.id).length, 0)
  t.match(logs.filter(l => l.msg === 'message sent to the dead-letter queue' && (l.message_id === notJson || l.message_id === v2)), [
    { level: 50, order_id: null, request_id: String, reason: 'invalid_message' },
    { level: 50, order_id: order.id, request_id: 'req-v2', reason: 'invalid_message' }
  ])
})

t.test('an order the order-service does not know is retried, then dead-lettered as order_not_found', async t => {
  const order = anOrder(100) // never added to the order-service
  const { messageId } = await harness.publish(orderCreated(order))
  t.match(await deadLetterOf(messageId), { orderId: order.id, reason: 'order_not_found', retryAttempts: 2 })
  t.match(orderService.callsFor(order.id), [{ method: 'PATCH', answered: 404 }, { method: 'PATCH', answered: 404 }, { method: 'PATCH', answered: 404 }])
  await waitFor('the queue to drain', drained)
})

t.test('a 403 from the order-service goes straight to the dead-letter queue', async t => {
  const order = orderService.add(anOrder(100))
  orderService.failNext({ method: 'PATCH', orderId: order.id, requested: 'processing' }, 403)
  const { messageId } = await harness.publish(orderCreated(order))
  t.match(await deadLetterOf(messageId), { orderId: order.id, reason: 'rejected_by_order_service', detail: /403/, retryAttempts: 0 })
  t.equal(orderService.callsFor(order.id).length, 1)
  await waitFor('the queue to drain', drained)
})

t.test('a redelivered order_created never creates a second payment', async t => {
  const order = orderService.add(anOrder(LIMIT + 5))
  const event = orderCreated(order)
  const { messageId } = await harness.publish(event)
  await orderService.finalized(order.id)
  await harness.publish(event, { messageId })
  await waitFor('the redelivery to be acknowledged', logged(order.id, 'order already processed; message acknowledged'))
  t.same(await harness.paymentsFor(order.id), [{ order_id: order.id, amount: LIMIT + 5, status: 'declined' }])
  await waitFor('the queue to drain', drained)
})

t.test('without an x-request-id the messageId is sent on as the request id', async t => {
  const order = orderService.add(anOrder(100))
  const { messageId } = await harness.publish(orderCreated(order), { requestId: null })
  await orderService.finalized(order.id)
  for (const call of orderService.callsFor(order.id)) t.equal(call.requestId, messageId)
  await waitFor('the queue to drain', drained)
})

t.test('readiness reports the broker connection, the database and the work queue', async t => {
  const { port } = processor.app.server.address() as AddressInfo
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
  t.equal(ready.status, 200)
  t.match(await ready.json(), { status: 'ready', checks: { broker: 'up', database: 'up', work_queue: 'up' } })
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
})
