import t from 'tap'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import { SpanKind } from '@opentelemetry/api'
import { EXCHANGES, ROUTING_KEYS, statusChangedRoutingKey, type Order } from '@orders/contracts'
import { brokerUser, createServiceInstance, startTracing } from '@orders/platform'
import { createTestVhost, WatchedSpanExporter } from '@orders/test-support'
import { consumeStatusEvents } from '../src/notifications/status-events-consumer.ts'
import type { OrderNotificationHub } from '../src/notifications/hub.ts'
import { buildOrderService, sampleItems } from './helper.ts'

// Started before any Fastify instance exists: @fastify/otel instruments each one at creation.
const exporter = new WatchedSpanExporter()
const tracing = startTracing({ serviceName: 'order-service-test', exporter })
t.teardown(tracing.shutdown)

const TRACE_ID = '4bf92f3577b34da6a3ce929b0e0e4736'
const traceparent = (spanId: string) => `00-${TRACE_ID}-${spanId}-01`
const traceIdOf = (header: unknown) => String(header).split('-')[1]

t.test('the trace of POST /orders and of PATCH /orders/:id reaches their outbox rows', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  const owner = randomUUID()
  const created = await app.inject({
    method: 'POST', url: '/orders', payload: { items: sampleItems },
    headers: { authorization: `Bearer ${issuer.userToken(owner)}`, traceparent: traceparent('00f067aa0ba902b7') }
  })
  t.equal(created.statusCode, 201)
  const order = created.json<Order>()
  const patched = await app.inject({
    method: 'PATCH', url: `/orders/${order.id}`, payload: { status: 'processing' },
    headers: { authorization: `Bearer ${issuer.serviceToken()}`, traceparent: traceparent('00f067aa0ba902b8') }
  })
  t.equal(patched.statusCode, 200)

  const rows = await db.withSchema('orders').selectFrom('outbox').select(['routing_key', 'headers']).orderBy('created_at').execute()
  t.same(rows.map(row => [row.routing_key, traceIdOf(row.headers.traceparent)]), [
    [ROUTING_KEYS.orderCreated, TRACE_ID],
    [statusChangedRoutingKey(owner), TRACE_ID]
  ])
  const rowParents = rows.map(row => String(row.headers.traceparent).split('-')[2] ?? '')
  const requestSpans = exporter.getFinishedSpans().filter(span => span.spanContext().traceId === TRACE_ID).map(span => span.spanContext().spanId)
  t.ok(rowParents.every(id => requestSpans.includes(id)), 'each row hangs under a span of its request')
})

t.test('a status event is handled, and pushed to WebSockets, in a span under the publish that sent it', async t => {
  const vhost = await createTestVhost()
  const broker = new Connection(vhost.url)
  const log = createServiceInstance({ service: 'order-service-test', logLevel: 'silent' }).log
  const pushed: Order[] = []
  const hub = { notifyStatusChanged: (order: Order) => { pushed.push(order) } } as unknown as OrderNotificationHub
  const feed = consumeStatusEvents({ broker, hub, instanceId: 'tracing-test', trustedPublisher: brokerUser(vhost.url), log })
  const publisher = broker.createPublisher({ confirm: true })
  t.teardown(async () => {
    await publisher.close()
    await feed.close()
    await broker.close()
    await vhost.drop()
  })
  await once(feed.consumer, 'ready')
  const owner = randomUUID()
  await feed.bindings.watch(owner)

  const now = new Date().toISOString()
  const order = { id: randomUUID(), user_id: owner, status: 'completed', items: sampleItems, currency: 'EUR', total: 2599, failure_reason: null, created_at: now, updated_at: now, cancellable_until: now }
  const event = { id: randomUUID(), type: 'order_status_changed', version: 1, occurred_at: now, data: { order, previous_status: 'processing' } }
  await publisher.send({ exchange: EXCHANGES.orderEvents, routingKey: statusChangedRoutingKey(owner), userId: brokerUser(vhost.url), headers: { traceparent: traceparent('a3ce929b0e0e4736') } }, event)

  const processed = await exporter.ended(`process ${ROUTING_KEYS.orderStatusChanged}`)
  const push = await exporter.ended('push order status to WebSockets')
  t.equal(pushed[0]?.id, order.id, 'the hub was told')
  t.equal(processed.kind, SpanKind.CONSUMER)
  t.equal(processed.spanContext().traceId, TRACE_ID)
  t.equal(processed.parentSpanContext?.spanId, 'a3ce929b0e0e4736', 'under the publish')
  t.equal(push.parentSpanContext?.spanId, processed.spanContext().spanId, 'the push under the handling')
  t.equal(push.attributes['orders.order_id'], order.id)
})
