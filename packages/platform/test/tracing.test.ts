import t from 'tap'
import { pino } from 'pino'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { contextFromHeaders, loggerOptions, traceHeaders, traceLogFields, withConsumeSpan, withPublishSpan, withSpan } from '../src/index.ts'
import { startTracing, tracingEnabled } from '../src/tracing-sdk.ts'

// Taken before the SDK starts (below), as in a default run.
const tracer = trace.getTracer('tracing-test')
const offHeaders = context.with(trace.setSpan(context.active(), tracer.startSpan('unrecorded')), () => traceHeaders())
const offLogFields = tracer.startActiveSpan('unrecorded', span => { span.end(); return traceLogFields() })
t.test('with tracing off, no header is injected and log lines carry no trace ids', async t => {
  t.same(offHeaders, {})
  t.same(offLogFields, {})
})

t.test('OTEL_TRACES_EXPORTER: otlp turns tracing on, unset or none leaves it off, anything else is refused', async t => {
  t.equal(tracingEnabled({}), false)
  t.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: 'none' }), false)
  t.equal(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' }), true)
  t.throws(() => tracingEnabled({ OTEL_TRACES_EXPORTER: 'jaeger' }), /must be "otlp" or "none"/)
})

const exporter = new InMemorySpanExporter()
const tracing = startTracing({ serviceName: 'tracing-test', exporter })
t.teardown(tracing.shutdown)
t.beforeEach(() => { exporter.reset() })

const TRACE_ID = '4bf92f3577b34da6a3ce929b0e0e4736'
const PARENT_SPAN_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`
const destination = { exchange: 'order.events', routingKey: 'order_created', messageId: 'msg-1' }

t.test('the active span travels in a traceparent header and comes back from it', async t => {
  await withSpan('request', {}, async span => {
    const headers = traceHeaders()
    t.equal(headers.traceparent, `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`)
    const back = trace.getSpanContext(contextFromHeaders(headers))
    t.equal(back?.traceId, span.spanContext().traceId)
    t.equal(back?.spanId, span.spanContext().spanId)
  })
})

t.test('headers without a valid traceparent (missing, not a string, malformed) give no parent', async t => {
  for (const headers of [undefined, {}, { traceparent: Buffer.from(TRACEPARENT) }, { traceparent: 'not-a-trace' }]) {
    t.equal(trace.getSpanContext(contextFromHeaders(headers as Record<string, unknown> | undefined)), undefined)
  }
})

t.test('a publish span is a child of the stored context, and the published headers carry the publish span', async t => {
  let sent: Record<string, string> = {}
  await withPublishSpan({ traceparent: TRACEPARENT, 'x-request-id': 'req-1' }, destination, async headers => { sent = headers })
  const [span] = exporter.getFinishedSpans()
  t.equal(span?.kind, SpanKind.PRODUCER)
  t.equal(span?.spanContext().traceId, TRACE_ID)
  t.equal(span?.parentSpanContext?.spanId, PARENT_SPAN_ID)
  t.equal(sent['x-request-id'], 'req-1', 'the other headers are kept')
  t.equal(sent.traceparent, `00-${TRACE_ID}-${span?.spanContext().spanId}-01`)
})

t.test('a consume span is a child of the message\'s context; a throw marks it failed and reaches the caller', async t => {
  await t.rejects(withConsumeSpan({ traceparent: TRACEPARENT }, destination, async () => { throw new Error('order-service down') }), /order-service down/)
  const [span] = exporter.getFinishedSpans()
  t.equal(span?.kind, SpanKind.CONSUMER)
  t.equal(span?.name, 'process order_created')
  t.equal(span?.spanContext().traceId, TRACE_ID)
  t.equal(span?.parentSpanContext?.spanId, PARENT_SPAN_ID)
  t.equal(span?.status.code, SpanStatusCode.ERROR)
  t.equal(span?.attributes['messaging.message.id'], 'msg-1')
})

t.test('log lines written inside a span carry its trace_id and span_id; outside, none', async t => {
  const lines: Array<Record<string, unknown>> = []
  const log = pino(loggerOptions('tracing-test', 'info'), { write (line: string) { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  let ids = { traceId: '', spanId: '' }
  await withConsumeSpan({ traceparent: TRACEPARENT }, destination, async span => {
    ids = span.spanContext()
    log.info('inside')
  })
  log.info('outside')
  t.match(lines[0], { msg: 'inside', trace_id: TRACE_ID, span_id: ids.spanId })
  t.notOk('trace_id' in (lines[1] ?? {}), 'no trace_id outside a span')
})
