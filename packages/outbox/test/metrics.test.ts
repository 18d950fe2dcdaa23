import t from 'tap'
import type { Publisher } from 'rabbitmq-client'
import { Connection } from 'rabbitmq-client'
import pino from 'pino'
import { createEventPublisher, metricsRegistry } from '@orders/platform'
import { createTestDatabase, createTestVhost } from '@orders/test-support'
import { appendToOutbox, OutboxRelay } from '@orders/outbox'

const SCHEMA = 'orders'
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/** The value of a metric's series for `schema`, as a scrape would see it now. */
async function valueFor (name: string, schema = SCHEMA, suffix?: string): Promise<number | undefined> {
  const metric = metricsRegistry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  return values.find(v => v.labels.schema === schema && (suffix === undefined || (v as { metricName?: string }).metricName === `${name}${suffix}`))?.value
}

t.test('outbox metrics: backlog, age of the oldest pending row, publishes and failures per schema', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const broker = new Connection(vhost.url)
  const publisher = createEventPublisher(broker)
  t.teardown(async () => {
    await publisher.close()
    await broker.close()
    await vhost.drop()
    await database.drop()
  })
  const { db } = database
  await db.transaction().execute(async trx => {
    for (let i = 0; i < 3; i++) await appendToOutbox(trx, SCHEMA, { exchange: 'orders.events', routingKey: 'order_created', payload: { i }, requestId: `req-${i}` })
  })
  const failuresBefore = await valueFor('outbox_publish_failures_total') ?? 0
  const publishedBefore = await valueFor('outbox_published_messages_total') ?? 0

  // A broker that refuses every message: the rows stay pending and each batch is a failure.
  const refusing = { send: async () => { throw new Error('broker away') } } as unknown as Publisher
  const failing = new OutboxRelay({ db, schema: SCHEMA, publisher: refusing, log, pollIntervalMs: 50 })
  failing.start()
  while ((await valueFor('outbox_publish_failures_total') ?? 0) < failuresBefore + 2) await new Promise(resolve => setTimeout(resolve, 20))
  await new Promise(resolve => setTimeout(resolve, 1_100)) // past the reuse window of the previous reading
  t.equal(await valueFor('outbox_pending_rows'), 3, 'three rows pending')
  t.ok((await valueFor('outbox_oldest_pending_age_seconds') ?? 0) >= 1, 'the oldest has waited over a second')
  await failing.stop()
  t.equal(await valueFor('outbox_published_messages_total') ?? 0, publishedBefore, 'nothing counted as published')

  const relay = new OutboxRelay({ db, schema: SCHEMA, publisher, log, pollIntervalMs: 60_000 })
  relay.start()
  relay.wake()
  while ((await valueFor('outbox_published_messages_total') ?? 0) < publishedBefore + 3) await new Promise(resolve => setTimeout(resolve, 20))
  t.equal(await valueFor('outbox_published_messages_total'), publishedBefore + 3, 'three published and confirmed')
  t.ok((await valueFor('outbox_publish_duration_seconds', SCHEMA, '_count') ?? 0) >= 1, 'the batch\'s confirm wait is timed')
  await new Promise(resolve => setTimeout(resolve, 1_100))
  t.equal(await valueFor('outbox_pending_rows'), 0, 'the backlog is empty')
  t.equal(await valueFor('outbox_oldest_pending_age_seconds'), 0)
  await relay.stop()
  await new Promise(resolve => setTimeout(resolve, 1_100))
  t.equal(await valueFor('outbox_pending_rows'), undefined, 'a stopped relay\'s schema is no longer read')
})
