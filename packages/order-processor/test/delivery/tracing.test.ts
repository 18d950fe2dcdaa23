import t from 'tap'
import { randomUUID } from 'node:crypto'
import { SpanKind } from '@opentelemetry/api'
import { EXCHANGES, ROUTING_KEYS } from '@orders/contracts'
import { createEventPublisher, startTracing } from '@orders/platform'
import { WatchedSpanExporter } from '@orders/test-support'
import { anOrder, orderCreated } from '../fixtures.ts'
import { startProcessorHarness } from '../processor-harness.ts'

const exporter = new WatchedSpanExporter()
const tracing = startTracing({ serviceName: 'order-processor-test', exporter })
t.teardown(tracing.shutdown)

const TRACE_ID = '4bf92f3577b34da6a3ce929b0e0e4736'
const PUBLISH_SPAN_ID = '00f067aa0ba902b7'

t.test('an order_created message is processed in a span under the publish that sent it, and the PATCH calls join that trace', async t => {
  const harness = await startProcessorHarness(t)
  const publisher = createEventPublisher(harness.connection)
  t.teardown(async () => { await publisher.close() })
  const order = harness.orderService.add(anOrder(100))
  await publisher.send({
    exchange: EXCHANGES.orderEvents,
    routingKey: ROUTING_KEYS.orderCreated,
    durable: true,
    messageId: randomUUID(),
    headers: { 'x-request-id': 'req-traced', traceparent: `00-${TRACE_ID}-${PUBLISH_SPAN_ID}-01` }
  }, orderCreated(order))

  t.equal((await harness.orderService.finalized(order.id)).status, 'completed')
  const processed = await exporter.ended(`process ${ROUTING_KEYS.orderCreated}`)
  t.equal(processed.kind, SpanKind.CONSUMER)
  t.equal(processed.spanContext().traceId, TRACE_ID)
  t.equal(processed.parentSpanContext?.spanId, PUBLISH_SPAN_ID, 'under the publish')

  const patches = exporter.getFinishedSpans().filter(span => span.kind === SpanKind.CLIENT && span.name === 'PATCH')
  t.ok(patches.length >= 2, 'processing and the final status')
  t.ok(patches.every(span => span.spanContext().traceId === TRACE_ID), 'every PATCH is in the order\'s trace')
})
