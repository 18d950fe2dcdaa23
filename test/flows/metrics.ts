/**
 * Metrics as an operator sees them: Prometheus (`pnpm dev --observe`'s, from
 * @orders/system/observe) scrapes every process of the shared system; after an order, each
 * metric of doc/operations.md is there with a sensible value. Prometheus answers a query only
 * once its scrapes have the data (a rate needs two inside its window), so each query is polled.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { findFreePorts } from '@orders/system'
import { startPrometheus } from '@orders/system/observe'
import { placeOrder } from '@orders/test-support'
import { call, registerAndLogin, waitForOrderStatus, type TestSystem } from '../system-helper.ts'

interface Sample { metric: Record<string, string>, value: [number, string] }

export async function metricsFlow (t: Test, { system, gateway }: TestSystem) {
  const dir = await mkdtemp(path.join(tmpdir(), 'prometheus-'))
  const [port] = await findFreePorts(1)
  const prometheus = await startPrometheus({ ports: system.ports, dir, port })
  t.teardown(async () => {
    await prometheus.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const { token } = await registerAndLogin(gateway, `metrics-${randomUUID()}@example.com`)
  const placed = await placeOrder(gateway, token, [{ sku: 'METER-1', quantity: 2, unit_price: 250 }])
  await waitForOrderStatus(gateway, token, placed.body.id, ['completed'])

  /** Polls an instant query until its samples satisfy `ok` (60 s at most); returns them. */
  async function query (promql: string, ok: (samples: Sample[]) => boolean): Promise<Sample[]> {
    const deadline = Date.now() + 60_000
    let samples: Sample[] = []
    while (Date.now() < deadline) {
      const answer = await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json() as { data: { result: Sample[] } }
      samples = answer.data.result
      if (ok(samples)) return samples
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    return samples
  }
  const value = (samples: Sample[]) => samples.map(s => Number(s.value[1]))
  const atLeast = (min: number) => (samples: Sample[]) => samples.length > 0 && value(samples).every(v => v >= min)

  t.test('every process is scraped: the services, the relay, the processor, the web app and HAProxy', async t => {
    const up = await query('up', samples => samples.length === 7 && value(samples).every(v => v === 1))
    t.same(up.map(s => s.metric.instance).sort(), ['haproxy', 'order-processor', 'order-service-1', 'order-service-2', 'relay', 'user-service', 'web'])
    t.ok(value(up).every(v => v === 1), 'all up')
    const lag = await query('nodejs_eventloop_lag_seconds', samples => samples.length === 6)
    t.ok(value(lag).every(v => v >= 0 && v < 1), 'event-loop lag of every Node process, under a second')
    t.same(value(await query('haproxy_backend_active_servers{proxy="order_service"}', atLeast(2))), [2], 'HAProxy\'s exporter: both replicas in rotation')
  })

  t.test('HTTP rate, errors and duration by route', async t => {
    t.ok(value(await query('sum(http_request_duration_seconds_count{job="order-service", route="/orders", method="POST", status_code="201"})', atLeast(1)))[0]! >= 1, 'the 201 is counted')
    // A rate needs a series to grow between two scrapes, and the gateway spreads requests over
    // both replicas (one series each): a burst, a scrape that has both series, another burst.
    const listMine = async () => { for (let i = 0; i < 6; i++) await call(`${gateway}/orders`, { token }) }
    await listMine()
    await query('count(http_request_duration_seconds_count{job="order-service", route="/orders", method="GET"})', atLeast(2))
    await listMine()
    const listed = 'http_request_duration_seconds_count{job="order-service", route="/orders", method="GET", status_code="200"}'
    const rate = await query(`sum(rate(${listed}[1m]))`, samples => value(samples)[0]! > 0)
    t.ok(value(rate)[0]! > 0, `a rate, from two scrapes at least (${value(rate)[0]}/s)`)
    const p99 = await query('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="order-service", route="/orders", method="GET"}[1m])))', samples => samples.length === 1 && !Number.isNaN(value(samples)[0]))
    t.ok(value(p99)[0]! > 0 && value(p99)[0]! < 5, `p99 of GET /orders in seconds (${value(p99)[0]})`)
  })

  t.test('outbox backlog, age and relay publishing; processor outcomes; status transitions; WebSockets; pools', async t => {
    t.same(value(await query('max(outbox_pending_rows{schema="orders"})', samples => samples.length === 1 && value(samples)[0] === 0)), [0], 'the orders outbox drained')
    t.ok(value(await query('max(outbox_oldest_pending_age_seconds{schema="orders"})', samples => samples.length === 1))[0]! < 60, 'nothing old pending')
    t.ok(value(await query('sum(outbox_published_messages_total{schema="orders"})', atLeast(3)))[0]! >= 3, 'created, processing and completed events published')
    t.ok(value(await query('sum(outbox_publish_duration_seconds_count{schema="orders"})', atLeast(1)))[0]! >= 1, 'publish latency observed')
    t.ok(value(await query('sum(order_processor_messages_total{result="completed"})', atLeast(1)))[0]! >= 1, 'the processor completed it')
    t.same(value(await query('order_processor_queue_messages{queue="order-processor.order_created.quorum"}', samples => samples.length === 1)).length, 1, 'the work queue\'s depth is reported')
    t.ok(value(await query('sum(order_status_transitions_total{from="processing", to="completed"})', atLeast(1)))[0]! >= 1, 'status transitions counted')
    t.same(value(await query('count(order_service_websocket_connections)', atLeast(2))), [2], 'WebSockets reported by both replicas')
    const pools = await query('db_pool_connections{state="max"}', samples => samples.length >= 5)
    t.ok(pools.length >= 5 && value(pools).every(v => v > 0), 'every database pool reports its size')
  })
}
