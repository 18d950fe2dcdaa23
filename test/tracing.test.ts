/**
 * One order's trace, end to end (doc/operations.md, "Traces"): the platform started with
 * OTEL_TRACES_EXPORTER=otlp sends its spans to a collector of the test's own (OTLP/HTTP, JSON),
 * and the trace of one POST /orders holds the relay's publish, the processor, its PATCHes, the
 * status events and the WebSocket pushes. Its own system: the shared one runs without tracing.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { placeOrder, watchOrders } from '@orders/test-support'
import { registerAndLogin, startTestSystem } from './system-helper.ts'

interface CollectedSpan { service: string, traceId: string, spanId: string, parentSpanId: string, name: string, kind: number }
interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string, value: { stringValue?: string } }> }
    scopeSpans?: Array<{ spans?: Array<Omit<CollectedSpan, 'service'>> }>
  }>
}
// OTLP's SpanKind numbering (not the API's).
const KIND = { server: 2, client: 3, producer: 4, consumer: 5 }

const spans: CollectedSpan[] = []
const arrivals = new EventEmitter()
const collector = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', chunk => chunks.push(chunk as Buffer))
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = resourceSpans.resource?.attributes?.find(a => a.key === 'service.name')?.value.stringValue ?? '?'
      for (const scope of resourceSpans.scopeSpans ?? []) for (const span of scope.spans ?? []) spans.push({ ...span, service })
    }
    arrivals.emit('spans')
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
collector.listen(0, '127.0.0.1')
await once(collector, 'listening')
t.teardown(() => { collector.close() })

const { gateway } = await startTestSystem(t, {
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
  // Batches every 100 ms instead of 5 s, so the test need not wait long for the last spans.
  OTEL_BSP_SCHEDULE_DELAY: '100'
})

/** Resolves once `predicate` holds for the spans collected so far. */
async function collected (what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    while (!predicate()) await once(arrivals, 'spans', { signal })
  } catch (err) {
    if (!signal.aborted) throw err
    throw new Error(`${what} not collected within ${timeoutMs} ms; have ${JSON.stringify(spans.map(s => [s.service, s.name]))}`)
  }
}

t.test('one order\'s trace shows the POST, the publish, the processor, the PATCHes, the status events and the WebSocket pushes', async t => {
  const { token } = await registerAndLogin(gateway, `traced-${randomUUID()}@example.com`)
  const heard = new EventEmitter()
  const watch = await watchOrders(gateway, token, order => { heard.emit(order.status, order) })
  t.teardown(async () => { await watch.close() })
  const completed = once(heard, 'completed', { signal: AbortSignal.timeout(20_000) })
  const placed = await placeOrder(gateway, token, [{ sku: 'TRACED-1', quantity: 1, unit_price: 500 }])
  t.equal(placed.status, 201)
  await completed

  const post = () => spans.find(s => s.kind === KIND.server && s.name === 'POST /orders')
  await collected('the POST /orders server span', () => post() !== undefined)
  const traceId = post()!.traceId
  const inTrace = (service: RegExp, name: string, kind: number) => spans.filter(s => s.traceId === traceId && service.test(s.service) && s.name === name && s.kind === kind)
  const expected: Array<[string, RegExp, string, number, number]> = [
    ['the relay\'s publish of order_created', /^order-service(-relay)?$/, 'publish order_created', KIND.producer, 1],
    ['the processor', /^order-processor$/, 'process order_created', KIND.consumer, 1],
    ['its PATCHes', /^order-processor$/, 'PATCH', KIND.client, 2],
    ['the PATCHes as the order-service serves them', /^order-service$/, 'PATCH /orders/:id', KIND.server, 2],
    ['the publishes of order_status_changed', /^order-service(-relay)?$/, 'publish order_status_changed', KIND.producer, 2],
    // Only the replica the owner's socket is on hears the status events: two events, once each.
    ['the status events', /^order-service$/, 'process order_status_changed', KIND.consumer, 2],
    ['the WebSocket pushes', /^order-service$/, 'push order status to WebSockets', 1, 2]
  ]
  await collected('the whole trace', () => expected.every(([, service, name, kind, count]) => inTrace(service, name, kind).length >= count))
  for (const [what, service, name, kind, count] of expected) t.ok(inTrace(service, name, kind).length >= count, what)

  const processed = inTrace(/^order-processor$/, 'process order_created', KIND.consumer)[0]!
  const published = inTrace(/^order-service(-relay)?$/, 'publish order_created', KIND.producer).map(s => s.spanId)
  t.ok(published.includes(processed.parentSpanId), 'the processor\'s span hangs under the publish')
})
