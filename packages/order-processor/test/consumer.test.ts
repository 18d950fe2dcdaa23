import t from 'tap'
import { pino } from 'pino'
import { ConsumerStatus, type AsyncMessage, type Connection } from 'rabbitmq-client'
import { settleDelivery, type OrderCreatedConsumerOptions } from '../src/consumer.ts'
import { TransientCallbackError } from '../src/order-callback-client.ts'
import type { ProcessingOutcome } from '../src/process-order.ts'
import { anOrder, orderCreated } from './fixtures.ts'

// How each delivery is settled, without a broker: the handler's return value is what
// rabbitmq-client turns into basic.ack / basic.nack(requeue).

function setup (processEvent: OrderCreatedConsumerOptions['processEvent']) {
  const logs: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, { write (line: string) { logs.push(JSON.parse(line) as Record<string, unknown>) } })
  const options: OrderCreatedConsumerOptions = {
    connection: {} as Connection,
    log,
    prefetch: 1,
    processEvent,
    retryBackoffMs: { min: 1, max: 2 }
  }
  return { logs, options }
}

function delivery (body: unknown, requestId = 'req-42'): AsyncMessage {
  return { body, headers: { 'x-request-id': requestId }, messageId: 'msg-1', correlationId: requestId, redelivered: false } as unknown as AsyncMessage
}

const order = anOrder(100)

const outcomes: Array<[ProcessingOutcome, ConsumerStatus]> = [
  [{ outcome: 'completed', resumed: false }, ConsumerStatus.ACK],
  [{ outcome: 'payment_declined', resumed: false }, ConsumerStatus.ACK],
  [{ outcome: 'already_processed', status: 'completed' }, ConsumerStatus.ACK],
  [{ outcome: 'order_not_found' }, ConsumerStatus.DROP]
]
for (const [outcome, status] of outcomes) {
  t.test(`${outcome.outcome} is ${ConsumerStatus[status]}`, async t => {
    const { logs, options } = setup(async () => outcome)
    t.equal(await settleDelivery(delivery(orderCreated(order)), options), status)
    t.ok(logs.length > 0)
    for (const line of logs) t.match(line, { order_id: order.id, request_id: 'req-42' }, `"${String(line.msg)}" names the order and request`)
  })
}

t.test('the rules get the event and the request id of the message', async t => {
  let seen: unknown
  const { options } = setup(async (event, requestId) => { seen = { orderId: event.data.order.id, requestId }; return { outcome: 'completed', resumed: false } })
  await settleDelivery(delivery(orderCreated(order), 'req-7'), options)
  t.same(seen, { orderId: order.id, requestId: 'req-7' })
})

t.test('a failure requeues the message, after a pause, with a warning for transient ones', async t => {
  const { logs, options } = setup(async () => { throw new TransientCallbackError('PATCH answered 503') })
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.REQUEUE)
  t.match(logs.at(-1), { level: 40, order_id: order.id, request_id: 'req-42', retry_in_ms: Number })
})

t.test('an unexpected failure is requeued too, logged as an error', async t => {
  const { logs, options } = setup(async () => { throw new Error('403 from the order-service') })
  t.equal(await settleDelivery(delivery(orderCreated(order)), options), ConsumerStatus.REQUEUE)
  t.match(logs.at(-1), { level: 50, order_id: order.id })
})

t.test('an invalid message is dropped without running the rules', async t => {
  let ran = false
  const { logs, options } = setup(async () => { ran = true; return { outcome: 'completed', resumed: false } })
  t.equal(await settleDelivery(delivery({ ...orderCreated(order), version: 2 }), options), ConsumerStatus.DROP)
  t.equal(await settleDelivery(delivery(Buffer.from('nonsense')), options), ConsumerStatus.DROP)
  t.notOk(ran)
  t.match(logs, [
    { level: 50, order_id: order.id, request_id: 'req-42', reason: /order_created v1/ },
    { level: 50, order_id: null, request_id: 'req-42', reason: /not JSON/ }
  ])
})
