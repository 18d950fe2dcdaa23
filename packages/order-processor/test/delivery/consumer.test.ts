import t from 'tap'
import { pino } from 'pino'
import { ConsumerStatus, type AsyncMessage, type Connection } from 'rabbitmq-client'
import { DELIVERY_HEADERS, EXCHANGES, QUEUES, delayQueueName } from '@orders/contracts'
import { settleDelivery, type OrderCreatedConsumerOptions } from '../../src/delivery/consumer.ts'
import type { PublishConfirmed } from '../../src/delivery/failed-messages.ts'
import { TransientOrderServiceError, UnexpectedOrderServiceAnswerError } from '../../src/order-service-client.ts'
import type { ProcessingOutcome } from '../../src/rules/process-order.ts'
import { anOrder, orderCreated } from '../fixtures.ts'

// How each delivery is settled, without a broker: the handler's return value is what
// rabbitmq-client turns into basic.ack / basic.nack(requeue); the copies it would publish to
// a delay queue or the dead-letter queue are recorded.

const DELAYS = [100, 500]

interface Published { path: 'retry' | 'dead_letter', attempt?: number, delayMs?: number, reason?: string, detail?: string }

function setup (processEvent: OrderCreatedConsumerOptions['processEvent'], publish?: PublishConfirmed) {
  const logs: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as Record<string, unknown>) } })
  const published: Published[] = []
  const envelopes: Array<Parameters<PublishConfirmed>> = []
  const options: OrderCreatedConsumerOptions = {
    connection: {} as Connection,
    log,
    prefetch: 1,
    processEvent,
    retryDelaysMs: DELAYS,
    handBackPauseMs: 1,
    publishConfirmed: publish ?? (async (envelope, body) => {
      envelopes.push([envelope, body])
      const headers = envelope.headers ?? {}
      published.push(envelope.exchange === EXCHANGES.processorDelay
        ? { path: 'retry', attempt: headers[DELIVERY_HEADERS.retryAttempt] as number, delayMs: DELAYS.find(d => delayQueueName(d) === envelope.routingKey) }
        : { path: 'dead_letter', reason: headers[DELIVERY_HEADERS.deadLetterReason] as string, detail: headers[DELIVERY_HEADERS.deadLetterDetail] as string })
    })
  }
  return { logs, options, published, envelopes }
}

function delivery (body: unknown, options: { requestId?: string, retryAttempt?: number, headers?: Record<string, unknown> } = {}): AsyncMessage {
  const requestId = options.requestId ?? 'req-42'
  const headers: Record<string, unknown> = { 'x-request-id': requestId, ...options.headers }
  if (options.retryAttempt !== undefined) headers['x-retry-attempt'] = options.retryAttempt
  return {
    body, headers, messageId: 'msg-1', correlationId: requestId, redelivered: false,
    exchange: EXCHANGES.orderEvents, routingKey: 'order_created', contentType: 'application/json'
  } as unknown as AsyncMessage
}

const order = anOrder(100)

const outcomes: ProcessingOutcome[] = [
  { outcome: 'completed', resumed: false, charged: true },
  { outcome: 'payment_declined', resumed: false, charged: true },
  { outcome: 'already_processed', status: 'completed' }
]
for (const outcome of outcomes) {
  t.test(`${outcome.outcome} is acknowledged, and nothing is published`, async t => {
    const { logs, options, published } = setup(async () => outcome)
    t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.ACK)
    t.same(published, [])
    t.ok(logs.length > 0)
    for (const line of logs) t.match(line, { order_id: order.id, request_id: 'req-42' }, `"${String(line.msg)}" names the order and request`)
  })
}

t.test('the rules get the event and the request id of the message', async t => {
  let seen: unknown
  const { options } = setup(async (event, message) => { seen = { orderId: event.data.order.id, requestId: message.requestId }; return { outcome: 'completed', resumed: false, charged: true } })
  await settleDelivery(delivery(orderCreated(order), { requestId: 'req-7' }), options)
  t.same(seen, { orderId: order.id, requestId: 'req-7' })
})

t.test('a transient failure goes to the next delay queue, then the message is acknowledged', async t => {
  const { logs, options, published } = setup(async () => { throw new TransientOrderServiceError('PATCH answered 503') })
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.ACK)
  t.equal(await settleDelivery(delivery(orderCreated(order), { retryAttempt: 1 }), options), ConsumerStatus.ACK)
  t.same(published, [{ path: 'retry', attempt: 1, delayMs: 100 }, { path: 'retry', attempt: 2, delayMs: 500 }])
  t.match(logs.at(-1), { level: 40, order_id: order.id, request_id: 'req-42', retry_attempt: 2, retry_in_ms: 500, msg: 'processing failed; retrying after a delay' })
})

t.test('after the last delay a transient failure goes to the dead-letter queue', async t => {
  const { logs, options, published } = setup(async () => { throw new TransientOrderServiceError('PATCH answered 503') })
  t.equal(await settleDelivery(delivery(orderCreated(order), { retryAttempt: 2 }), options), ConsumerStatus.ACK)
  t.match(published, [{ path: 'dead_letter', reason: 'retries_exhausted', detail: /503 \(after 2 retries\)/ }])
  t.match(logs.at(-1), { level: 50, order_id: order.id, request_id: 'req-42', reason: 'retries_exhausted', msg: 'message sent to the dead-letter queue' })
})

t.test('an unexpected error is retried too, logged as an error', async t => {
  const { logs, options, published } = setup(async () => { throw new Error('connection to the database lost') })
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.ACK)
  t.same(published, [{ path: 'retry', attempt: 1, delayMs: 100 }])
  t.match(logs.at(-1), { level: 50, order_id: order.id })
})

t.test('a 4xx refusal other than 401 and 409 goes straight to the dead-letter queue', async t => {
  for (const status of [400, 403, 422]) {
    const { options, published } = setup(async () => { throw new UnexpectedOrderServiceAnswerError(`PATCH answered ${status}`, status) })
    t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.ACK)
    t.match(published, [{ path: 'dead_letter', reason: 'rejected_by_order_service', detail: `PATCH answered ${status}` }], `${status}`)
  }
  for (const status of [401, 409]) {
    const { options, published } = setup(async () => { throw new UnexpectedOrderServiceAnswerError(`answered ${status}`, status) })
    await settleDelivery(delivery(orderCreated(order)), options)
    t.match(published, [{ path: 'retry' }], `${status} is retried`)
  }
})

t.test('an order the order-service does not know is retried, then dead-lettered as order_not_found', async t => {
  const { options, published } = setup(async () => ({ outcome: 'order_not_found' }))
  await settleDelivery(delivery(orderCreated(order)), options)
  await settleDelivery(delivery(orderCreated(order), { retryAttempt: 2 }), options)
  t.match(published, [{ path: 'retry', attempt: 1 }, { path: 'dead_letter', reason: 'order_not_found' }])
})

t.test('an invalid message goes straight to the dead-letter queue without running the rules', async t => {
  let ran = false
  const { logs, options, published } = setup(async () => { ran = true; return { outcome: 'completed', resumed: false, charged: true } })
  t.equal(await settleDelivery(delivery({ ...orderCreated(order), version: 2 }), options), ConsumerStatus.ACK)
  t.equal(await settleDelivery(delivery(Buffer.from('nonsense')), options), ConsumerStatus.ACK)
  t.notOk(ran)
  t.match(published, [
    { path: 'dead_letter', reason: 'invalid_message', detail: /order_created v1/ },
    { path: 'dead_letter', reason: 'invalid_message', detail: /not JSON/ }
  ])
  t.match(logs, [
    { level: 50, order_id: order.id, request_id: 'req-42', reason: 'invalid_message' },
    { level: 50, order_id: null, request_id: 'req-42', reason: 'invalid_message' }
  ])
})

t.test('when the copy cannot be published the message is handed back, not acknowledged', async t => {
  const { logs, options } = setup(async () => { throw new TransientOrderServiceError('503') }, async () => { throw new Error('channel closed') })
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.REQUEUE)
  t.match(logs.at(-1), { level: 50, order_id: order.id, msg: /handing it back/ })
})

t.test('a failure while the processor stops hands the message back without a retry copy', async t => {
  const stopping = new AbortController()
  const { options, published } = setup(async () => { stopping.abort(); throw new TransientOrderServiceError('aborted') })
  options.stopping = stopping.signal
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.REQUEUE)
  t.same(published, [])
})

t.test('a retry copy keeps the body, ids and where it was first published, without the broker\'s headers', async t => {
  const { options, envelopes } = setup(async () => { throw new TransientOrderServiceError('503') })
  const event = orderCreated(order)
  await settleDelivery(delivery(event, { headers: { 'x-delivery-count': 2, 'x-death': [{ count: 1 }], 'x-first-death-reason': 'expired' } }), options)
  const [[envelope, body]] = envelopes as [[Parameters<PublishConfirmed>[0], unknown]]
  t.same(body, event)
  t.match(envelope, { exchange: EXCHANGES.processorDelay, routingKey: delayQueueName(100), durable: true, messageId: 'msg-1', correlationId: 'req-42', contentType: 'application/json' })
  t.same(envelope.headers, {
    'x-request-id': 'req-42',
    [DELIVERY_HEADERS.originalExchange]: EXCHANGES.orderEvents,
    [DELIVERY_HEADERS.originalRoutingKey]: 'order_created',
    [DELIVERY_HEADERS.retryAttempt]: 1
  })
})

t.test('a dead letter goes to the dead-letter exchange under its first routing key, with reason, detail and time', async t => {
  const { options, envelopes } = setup(async () => { throw new UnexpectedOrderServiceAnswerError('answered 403 '.repeat(200), 403) })
  await settleDelivery(delivery(orderCreated(order), {
    retryAttempt: 1, headers: { [DELIVERY_HEADERS.originalExchange]: EXCHANGES.orderEvents, [DELIVERY_HEADERS.originalRoutingKey]: 'order_created' }
  }), options)
  const [[envelope]] = envelopes as [[Parameters<PublishConfirmed>[0], unknown]]
  t.match(envelope, { exchange: EXCHANGES.processorDeadLetter, routingKey: 'order_created' })
  t.match(envelope.headers, {
    [DELIVERY_HEADERS.deadLetterReason]: 'rejected_by_order_service',
    [DELIVERY_HEADERS.failedAt]: /^\d{4}-\d\d-\d\dT/,
    [DELIVERY_HEADERS.originalExchange]: EXCHANGES.orderEvents,
    [DELIVERY_HEADERS.retryAttempt]: 1
  })
  t.equal((envelope.headers![DELIVERY_HEADERS.deadLetterDetail] as string).length, 1000, 'the detail is cut to 1000 characters')
})

t.test('an order in its grace period waits in the grace queue for the time left, and is not processed yet', async t => {
  let processed = false
  const { options, envelopes } = setup(async () => { processed = true; return { outcome: 'completed', resumed: false, charged: true } })
  const waiting = { ...order, cancellable_until: new Date(Date.now() + 3_000).toISOString() }
  const status = await settleDelivery(delivery(orderCreated(waiting), { retryAttempt: 1 }), options)
  t.equal(status, ConsumerStatus.ACK, 'the original is acknowledged once the copy is confirmed')
  t.equal(processed, false)
  const [[envelope]] = envelopes as [[Parameters<PublishConfirmed>[0], unknown]]
  t.match(envelope, { exchange: EXCHANGES.processorDelay, routingKey: QUEUES.orderGracePeriod, durable: true, messageId: 'msg-1' })
  t.ok(Number(envelope.expiration) > 2_900 && Number(envelope.expiration) <= 3_000, `expires after the time left (${envelope.expiration} ms)`)
  t.equal(envelope.headers![DELIVERY_HEADERS.retryAttempt], 1, 'waiting is not a retry')
})

t.test('an order whose grace period is over is processed at once', async t => {
  let processed = false
  const { options, envelopes } = setup(async () => { processed = true; return { outcome: 'completed', resumed: false, charged: true } })
  const due = { ...order, cancellable_until: new Date(Date.now() - 1).toISOString() }
  t.equal(await settleDelivery(delivery(orderCreated(due)), options), ConsumerStatus.ACK)
  t.equal(processed, true)
  t.same(envelopes, [])
})

t.test('when the grace queue cannot take it, the order goes back to the work queue', async t => {
  const { options } = setup(async () => ({ outcome: 'completed', resumed: false, charged: true }), async () => { throw new Error('channel closed') })
  const waiting = { ...order, cancellable_until: new Date(Date.now() + 3_000).toISOString() }
  t.equal(await settleDelivery(delivery(orderCreated(waiting)), options), ConsumerStatus.REQUEUE)
})
