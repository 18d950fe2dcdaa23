/**
 * Trace context across processes (W3C `traceparent`), with `@opentelemetry/api` only. Until a
 * process starts the SDK (tracing-sdk.ts, when OTEL_TRACES_EXPORTER=otlp) every call here is
 * a no-op: nothing is injected, spans are not recorded, log lines get no trace fields.
 *
 * HTTP is carried by the instrumentations; AMQP is not (nothing instruments rabbitmq-client),
 * so the outbox stores the context in its row's headers and the consumers read it back.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter } from '@opentelemetry/api'
import { eventTypeOfRoutingKey } from '@orders/contracts'

const tracer = trace.getTracer('@orders/platform')

/** AMQP headers may hold numbers, buffers or nested tables: only strings can carry a context. */
const amqpHeaderGetter: TextMapGetter<Record<string, unknown>> = {
  keys: carrier => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key]
    return typeof value === 'string' ? value : undefined
  }
}

/** The headers (`traceparent`, `tracestate`) that carry `ctx` (default: the active context). */
export function traceHeaders (ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {}
  propagation.inject(ctx, headers)
  return headers
}

/** The context a message's headers carry, or none (a root) when they carry no valid one. */
export function contextFromHeaders (headers: Record<string, unknown> | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, amqpHeaderGetter)
}

/** Runs `work` in a span that ends when it settles; a throw marks the span failed. */
async function inSpan<T> (name: string, parent: Context, kind: SpanKind, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent)
  try {
    return await context.with(trace.setSpan(parent, span), async () => await work(span))
  } catch (err) {
    span.recordException(err as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message })
    throw err
  } finally {
    span.end()
  }
}

export interface MessageSpanOptions {
  /**
   * The AMQP exchange and routing key, recorded as messaging attributes. Spans are named by
   * the routing key's event type alone (`publish order_status_changed`, not one name per user).
   */
  exchange: string
  routingKey: string
  messageId?: string
}

function messagingAttributes (operation: 'publish' | 'process', options: MessageSpanOptions): Attributes {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': operation,
    'messaging.destination.name': options.exchange,
    'messaging.rabbitmq.destination.routing_key': options.routingKey,
    ...(options.messageId === undefined ? {} : { 'messaging.message.id': options.messageId })
  }
}

/**
 * A PRODUCER span, child of the context `storedHeaders` carry (the request that wrote the
 * outbox row); `publish` gets those headers with this span's context in place of the stored
 * one, so the consumer's span hangs under the publish.
 */
export async function withPublishSpan<T> (storedHeaders: Record<string, string>, options: MessageSpanOptions, publish: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  return await inSpan(`publish ${eventTypeOfRoutingKey(options.routingKey)}`, contextFromHeaders(storedHeaders), SpanKind.PRODUCER, messagingAttributes('publish', options), async () =>
    await publish({ ...storedHeaders, ...traceHeaders() }))
}

/** A CONSUMER span, child of the context the message's headers carry; `work` runs inside it. */
export async function withConsumeSpan<T> (headers: Record<string, unknown> | undefined, options: MessageSpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return await inSpan(`process ${eventTypeOfRoutingKey(options.routingKey)}`, contextFromHeaders(headers), SpanKind.CONSUMER, messagingAttributes('process', options), work)
}

/** An INTERNAL span under the active one, for a step worth seeing in a trace. */
export async function withSpan<T> (name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return await inSpan(name, context.active(), SpanKind.INTERNAL, attributes, work)
}

/** pino mixin: the active span's ids on every log line, so a trace and its logs find each other. */
export function traceLogFields (): { trace_id?: string, span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext()
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {}
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId }
}
