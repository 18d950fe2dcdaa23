/**
 * Starts the OpenTelemetry SDK: a tracer provider (W3C trace context, AsyncLocalStorage) with
 * the HTTP, undici, pg and Fastify instrumentations. Off unless OTEL_TRACES_EXPORTER=otlp
 * (tracing-autostart.ts), so a default run loads none of it.
 *
 * The SDK is loaded with require(), not import: the autostart runs as the first import of a
 * composition root, and ES modules cannot load anything synchronously; an `await import()`
 * would let the sibling imports (pg, fastify) run before the instrumentations are in place.
 * Their require hooks then catch pg's own `require('./client')` and fastify's
 * `require('node:http')`; undici and Fastify announce themselves on diagnostics channels.
 */
import { createRequire } from 'node:module'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'

const require = createRequire(import.meta.url)

/** Probes and scrapes would fill every trace store; they say nothing about an order. */
const UNTRACED_PATHS = ['/healthz', '/readyz', '/metrics']

function isUntracedPath (url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0] ?? ''
  return UNTRACED_PATHS.includes(path)
}

/** OTEL_TRACES_EXPORTER: `otlp` turns tracing on; unset or `none` leaves it off. */
export function tracingEnabled (env: NodeJS.ProcessEnv): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim() ?? ''
  if (exporter === '' || exporter === 'none') return false
  if (exporter === 'otlp') return true
  throw new Error(`OTEL_TRACES_EXPORTER must be "otlp" or "none" (got "${exporter}"): traces go out over OTLP/HTTP only`)
}

export interface TracingOptions {
  /** service.name, unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string
  /** service.instance.id: which replica (the order-service's INSTANCE_ID). */
  instanceId?: string
  /**
   * Where finished spans go. Default: OTLP/HTTP, configured by the standard variables
   * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS…),
   * in batches. Tests pass an InMemorySpanExporter: then each span is exported as it ends.
   */
  exporter?: SpanExporter
}

export interface Tracing {
  /** Exports what is buffered. */
  flush: () => Promise<void>
  /** Flushes and stops; the instrumentations stay patched but record nothing. */
  shutdown: () => Promise<void>
}

export function startTracing (options: TracingOptions): Tracing {
  const { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node')
  const { resourceFromAttributes, detectResources, envDetector } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation')
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http')
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici')
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg')
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel')

  const spanProcessor = options.exporter === undefined
    ? new BatchSpanProcessor(new (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter())
    : new SimpleSpanProcessor(options.exporter)
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the default name.
  const resource = resourceFromAttributes({
    'service.name': options.serviceName,
    ...(options.instanceId === undefined ? {} : { 'service.instance.id': options.instanceId })
  }).merge(detectResources({ detectors: [envDetector] }))
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] })
  provider.register() // the W3C trace-context propagator and the AsyncLocalStorage context manager
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: request => isUntracedPath(request.url) }),
      new UndiciInstrumentation(),
      // A query's span only under a request's or a message's: the pool's own checks stay out.
      new PgInstrumentation({ requireParentSpan: true }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: route => isUntracedPath(route.url) })
    ]
  })
  return {
    flush: async () => { await provider.forceFlush() },
    shutdown: async () => { await provider.shutdown() }
  }
}
