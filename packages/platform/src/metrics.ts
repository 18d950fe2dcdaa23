/**
 * Prometheus metrics (prom-client): every process's `GET /metrics`, the HTTP metrics of its
 * routes, Node's default process metrics (CPU, memory, event-loop lag, GC) and the use of its
 * database pools. Domain metrics (outbox, processor, WebSockets, orders) are declared next to
 * the code they count, with `counter`, `gauge` and `histogram` below. doc/operations.md lists them.
 *
 * Everything lives in prom-client's global registry, one per process. The helpers return the
 * metric already registered under a name, so a module evaluated twice, or a test process that
 * builds many apps, counts into the same series instead of throwing "already registered".
 */
import type { FastifyInstance } from 'fastify'
import fastifyPlugin from 'fastify-plugin'
import type pg from 'pg'
import client, { type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client'

export const metricsRegistry = client.register
export type Counter<L extends string = string> = client.Counter<L>
export type Gauge<L extends string = string> = client.Gauge<L>
export type Histogram<L extends string = string> = client.Histogram<L>

export function counter<L extends string> (config: CounterConfiguration<L>): client.Counter<L> {
  return (metricsRegistry.getSingleMetric(config.name) as client.Counter<L> | undefined) ?? new client.Counter(config)
}

export function gauge<L extends string> (config: GaugeConfiguration<L>): client.Gauge<L> {
  return (metricsRegistry.getSingleMetric(config.name) as client.Gauge<L> | undefined) ?? new client.Gauge(config)
}

export function histogram<L extends string> (config: HistogramConfiguration<L>): client.Histogram<L> {
  return (metricsRegistry.getSingleMetric(config.name) as client.Histogram<L> | undefined) ?? new client.Histogram(config)
}

// Service answers take milliseconds; the top buckets catch the processor's slow HTTP calls
// and the gateway's 30 s timeout.
const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const httpRequestDuration = histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by route template, method and status code: rate, errors and duration',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: HTTP_BUCKETS_SECONDS
})

/** Requests that matched no route share one label, so a scan of random paths adds no series. */
const UNMATCHED_ROUTE = 'unmatched'

let defaultMetricsStarted = false

/**
 * Registers `GET /metrics` and the HTTP metrics on every route of the instance (not
 * encapsulated). `/metrics` needs no token on the process's own port, like /healthz: the
 * gateway refuses it (haproxy.cfg), so only the internal network (Prometheus) reaches it.
 */
export const metricsPlugin = fastifyPlugin(async function metricsPlugin (app: FastifyInstance) {
  if (!defaultMetricsStarted) {
    // Includes nodejs_eventloop_lag_seconds and its percentiles (perf_hooks' histogram).
    client.collectDefaultMetrics({ register: metricsRegistry })
    defaultMetricsStarted = true
  }

  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe({
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })

  app.get('/metrics', {
    schema: { tags: ['health'], summary: 'Prometheus metrics (public on the process\'s own port; the gateway refuses it)' },
    config: { public: true },
    logLevel: 'warn'
  }, async (_request, reply) => {
    return await reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics())
  })
}, { name: 'orders-metrics' })

const observedPools = new Map<pg.Pool, string>()

gauge({
  name: 'db_pool_connections',
  help: 'Database pool connections by state: in_use, idle, waiting (clients queued for one) and max',
  labelNames: ['pool', 'state'] as const,
  collect () {
    this.reset()
    for (const [pool, name] of observedPools) {
      if (pool.ending) { observedPools.delete(pool); continue }
      this.inc({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount)
      this.inc({ pool: name, state: 'idle' }, pool.idleCount)
      this.inc({ pool: name, state: 'waiting' }, pool.waitingCount)
      this.inc({ pool: name, state: 'max' }, pool.options.max ?? 10)
    }
  }
})

/** Reports the pool's connections under `name` until it is ended (database.ts calls this). */
export function observePool (pool: pg.Pool, name: string): void {
  observedPools.set(pool, name)
}
