import t from 'tap'
import { once } from 'node:events'
import { Connection, type AsyncMessage } from 'rabbitmq-client'
import pino from 'pino'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { createEventPublisher, startTracing, withSpan } from '@orders/platform'
import { createTestDatabase, createTestVhost } from '@orders/test-support'
import { appendToOutbox, OutboxRelay } from '@orders/outbox'

const SCHEMA = 'orders'
const EXCHANGE = 'orders.events'
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
const exporter = new InMemorySpanExporter()
const tracing = startTracing({ serviceName: 'outbox-test', exporter })
t.teardown(tracing.shutdown)

/** The trace and parent span ids a `traceparent` header names. */
function traceparentIds (value: unknown): { traceId?: string, spanId?: string } {
  const [, traceId, spanId] = String(value).split('-')
  return { traceId, spanId }
}

t.test('a request\'s trace goes into the outbox row and on through the relay\'s publish to the AMQP message', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const broker = new Connection(vhost.url)
  const publisher = createEventPublisher(broker)
  const received: AsyncMessage[] = []
  let messageArrived = (): void => {}
  const arrived = new Promise<void>(resolve => { messageArrived = resolve })
  const consumer = broker.createConsumer({
    queue: 'tracing-test',
    queueOptions: { exclusive: true },
    exchanges: [{ exchange: EXCHANGE, type: 'topic', durable: true }],
    queueBindings: [{ exchange: EXCHANGE, queue: 'tracing-test', routingKey: '#' }]
  }, message => { received.push(message); messageArrived() })
  t.teardown(async () => {
    await consumer.close()
    await publisher.close()
    await broker.close()
    await vhost.drop()
    await database.drop()
  })
  await once(consumer, 'ready')

  // The request: a span, and the outbox row written inside it.
  const { requestSpan, rowId } = await withSpan('POST /orders', {}, async span => ({
    requestSpan: span.spanContext(),
    rowId: await database.db.transaction().execute(async trx =>
      await appendToOutbox(trx, SCHEMA, { exchange: EXCHANGE, routingKey: 'order_created', payload: { n: 1 }, requestId: 'req-1' }))
  }))
  const row = await database.db.withSchema(SCHEMA).selectFrom('outbox').select('headers').where('id', '=', rowId).executeTakeFirstOrThrow()
  t.same(traceparentIds(row.headers.traceparent), { traceId: requestSpan.traceId, spanId: requestSpan.spanId }, 'the row stores the request\'s context')
  t.equal(row.headers['x-request-id'], 'req-1')

  const relay = new OutboxRelay({ db: database.db, schema: SCHEMA, publisher, log, pollIntervalMs: 60_000 })
  t.equal(await relay.publishPending(), 1)
  await arrived

  const publish = exporter.getFinishedSpans().find(span => span.name === 'publish order_created')
  t.equal(publish?.kind, SpanKind.PRODUCER)
  t.equal(publish?.spanContext().traceId, requestSpan.traceId, 'the publish is in the request\'s trace')
  t.equal(publish?.parentSpanContext?.spanId, requestSpan.spanId, 'under the request')
  t.equal(publish?.attributes['messaging.message.id'], rowId)
  const message = received[0]
  t.same(traceparentIds(message?.headers?.traceparent), { traceId: requestSpan.traceId, spanId: publish?.spanContext().spanId },
    'the message carries the publish span, so its consumer hangs under it')
  t.equal(message?.headers?.['x-request-id'], 'req-1', 'the request id still travels')
})

t.test('a row written outside any span carries no traceparent', async t => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const rowId = await appendToOutbox(database.db, SCHEMA, { exchange: EXCHANGE, routingKey: 'order_created', payload: {} })
  const row = await database.db.withSchema(SCHEMA).selectFrom('outbox').select('headers').where('id', '=', rowId).executeTakeFirstOrThrow()
  t.same(row.headers, {})
})
