import t from 'tap'
import { sql } from 'kysely'
import { counter, createDatabase, createServiceInstance, registerServiceBasics } from '@orders/platform'

/** The value of one sample of the Prometheus text format, or undefined when it is absent. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

async function serviceApp () {
  const app = createServiceInstance({ service: 'metrics-test', logLevel: 'silent' })
  await registerServiceBasics(app, { title: 'metrics-test', description: 'test', readiness: {} })
  app.get('/things/:id', { config: { public: true } }, async request => {
    if ((request.params as { id: string }).id === 'broken') throw new Error('a bug')
    return { ok: true }
  })
  await app.ready()
  t.teardown(() => app.close())
  return app
}

t.test('GET /metrics counts requests by route template, method and status, with their duration', async t => {
  const app = await serviceApp()
  for (const id of ['a', 'b', 'broken']) await app.inject({ url: `/things/${id}` })
  await app.inject({ url: '/no-such-path/123' })
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const ok = { method: 'GET', route: '/things/:id', status_code: '200' }
  t.equal(sample(res.body, 'http_request_duration_seconds_count', ok), 2, 'two answers 200 on one route label, not one per id')
  t.equal(sample(res.body, 'http_request_duration_seconds_count', { ...ok, status_code: '500' }), 1, 'the error counted under its status')
  t.equal(sample(res.body, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }), 1, 'unknown paths share one label')
  t.ok((sample(res.body, 'http_request_duration_seconds_sum', ok) ?? -1) >= 0, 'durations are summed')
  t.equal(sample(res.body, 'http_request_duration_seconds_bucket', { ...ok, le: '+Inf' }), 2)
})

t.test('the default process metrics include event-loop lag', async t => {
  const app = await serviceApp()
  const body = (await app.inject({ url: '/metrics' })).body
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total']) {
    t.ok((sample(body, name) ?? -1) >= 0, name)
  }
})

t.test('a second app in the same process counts into the same series instead of failing', async t => {
  const first = await serviceApp()
  const second = await serviceApp()
  const before = sample((await first.inject({ url: '/metrics' })).body, 'http_request_duration_seconds_count', { route: '/healthz' }) ?? 0
  await second.inject({ url: '/healthz' })
  t.equal(sample((await first.inject({ url: '/metrics' })).body, 'http_request_duration_seconds_count', { route: '/healthz' }), before + 1)
  t.equal(counter({ name: 'metrics_test_total', help: 'x' }), counter({ name: 'metrics_test_total', help: 'x' }), 'a metric is declared once')
})

t.test('database pools report connections in use, idle, waiting and their maximum', async t => {
  const db = createDatabase({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', poolSize: 1, applicationName: 'metrics-test-pool' })
  const app = await serviceApp()
  const pool = (state: string) => async () => sample((await app.inject({ url: '/metrics' })).body, 'db_pool_connections', { pool: 'metrics-test-pool', state })
  let release: () => void = () => {}
  let holding: () => void = () => {}
  const connectionHeld = new Promise<void>(resolve => { holding = resolve })
  const held = db.transaction().execute(async trx => {
    await sql`select 1`.execute(trx)
    await new Promise<void>(resolve => { release = resolve; holding() })
  })
  // Only once the transaction really holds the connection: released any earlier, it would
  // never end, and the queued query would time out waiting for the connection.
  await connectionHeld
  const queued = sql`select 1`.execute(db)
  // The transaction holds the only connection; the second query waits for it.
  while ((await pool('waiting')()) !== 1) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(await pool('in_use')(), 1)
  t.equal(await pool('max')(), 1)
  release()
  await held
  await queued
  t.equal(await pool('in_use')(), 0)
  t.equal(await pool('idle')(), 1)
  await db.destroy()
  t.equal(await pool('max')(), undefined, 'an ended pool is no longer reported')
})
