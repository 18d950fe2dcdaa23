import t from 'tap'
import { Connection, type AsyncMessage } from 'rabbitmq-client'
import { sql } from 'kysely'
import pino from 'pino'
import { createEventPublisher } from '@orders/platform'
import { createTestDatabase, createTestVhost } from '@orders/test-support'
import { appendToOutbox, OutboxRelay } from '@orders/outbox'

const SCHEMA = 'orders'
const EXCHANGE = 'orders.events'
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

t.test('the outbox relay', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const broker = new Connection(vhost.url)
  const publishers: Array<ReturnType<typeof createEventPublisher>> = []
  let consumer: ReturnType<typeof broker.createConsumer> | undefined
  t.teardown(async () => {
    await Promise.all(publishers.map(async p => { await p.close() }))
    await consumer?.close()
    await broker.close()
    await vhost.drop()
    await database.drop()
  })
  const { db } = database

  // Every message on the events exchange lands here, in order of arrival.
  const received: AsyncMessage[] = []
  const waiters: Array<() => void> = []
  consumer = broker.createConsumer({
    queue: 'relay-test',
    queueOptions: { exclusive: true },
    exchanges: [{ exchange: EXCHANGE, type: 'topic', durable: true }],
    queueBindings: [{ exchange: EXCHANGE, queue: 'relay-test', routingKey: '#' }]
  }, msg => { received.push(msg); waiters.splice(0).forEach(w => w()) })
  await new Promise(resolve => consumer.once('ready', resolve))

  async function receivedAtLeast (n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (received.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${received.length} of ${n} messages arrived`)
      await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200) })
    }
  }
  async function append (count: number, label: string): Promise<string[]> {
    return await db.transaction().execute(async trx => {
      const ids = []
      for (let i = 0; i < count; i++) {
        ids.push(await appendToOutbox(trx, SCHEMA, { exchange: EXCHANGE, routingKey: 'order_created', payload: { label, i }, requestId: `req-${label}-${i}` }))
      }
      return ids
    })
  }
  const pending = async () => Number((await db.withSchema(SCHEMA).selectFrom('outbox').select(eb => eb.fn.countAll().as('n')).where('published_at', 'is', null).executeTakeFirstOrThrow()).n)
  const newRelay = (options: { batchSize?: number, pollIntervalMs?: number } = {}) => {
    const publisher = createEventPublisher(broker)
    publishers.push(publisher)
    return new OutboxRelay({ db, schema: SCHEMA, publisher, log, pollIntervalMs: 60_000, ...options })
  }

  t.test('publishes exactly what the outbox holds, once, with the row id as messageId', async t => {
    received.length = 0
    const ids = await append(25, 'first')
    const relay = newRelay()
    relay.start()
    relay.wake()
    await receivedAtLeast(25)
    await relay.stop()
    t.same(received.map(m => m.messageId), ids, 'in outbox order')
    t.same(received.map(m => m.body), ids.map((_, i) => ({ label: 'first', i })))
    t.match(received[0], { routingKey: 'order_created', durable: true, contentType: 'application/json', correlationId: 'req-first-0', headers: { 'x-request-id': 'req-first-0' } })
    t.equal(await pending(), 0, 'every row is marked published')
  })

  t.test('a relay started afterwards publishes only what is new', async t => {
    received.length = 0
    const ids = await append(5, 'after-restart')
    const relay = newRelay()
    relay.start()
    await receivedAtLeast(5) // found by its first look at start-up, no wake needed
    await relay.stop()
    t.same(received.map(m => m.messageId), ids)
    t.equal(await pending(), 0)
  })

  t.test('the poll finds rows nobody woke it for', async t => {
    received.length = 0
    const relay = newRelay({ pollIntervalMs: 50 })
    relay.start()
    await new Promise(resolve => setTimeout(resolve, 20)) // let it go idle first
    const ids = await append(3, 'polled')
    await receivedAtLeast(3)
    await relay.stop()
    t.same(received.map(m => m.messageId), ids)
  })

  t.test('two relays at once publish every row exactly once', async t => {
    received.length = 0
    const ids = await append(600, 'concurrent')
    const relays = [newRelay({ batchSize: 20 }), newRelay({ batchSize: 20 })]
    relays.forEach(r => r.start())
    await receivedAtLeast(600)
    await Promise.all(relays.map(r => r.stop()))
    const published = received.map(m => m.messageId)
    t.equal(published.length, 600, 'no duplicates')
    t.same(new Set(published), new Set(ids), 'no row missed')
    t.equal(await pending(), 0)
  })

  t.test('rows the broker refuses stay pending and go out once it accepts them', async t => {
    received.length = 0
    // Publishing to an exchange that does not exist is refused by the broker (404 channel error).
    const [id] = await db.transaction().execute(async trx => [await appendToOutbox(trx, SCHEMA, { exchange: 'missing.exchange', routingKey: 'order_created', payload: { label: 'refused' } })])
    const relay = newRelay()
    await t.rejects(relay.publishPending())
    t.equal(await pending(), 1, 'still pending after the refusal')
    await broker.exchangeDeclare({ exchange: 'missing.exchange', type: 'topic', durable: false, autoDelete: true })
    await broker.exchangeBind({ source: 'missing.exchange', destination: EXCHANGE, routingKey: '#' })
    t.equal(await relay.publishPending(), 1)
    await receivedAtLeast(1)
    t.equal(received[0]!.messageId, id)
    t.equal(await pending(), 0)
  })

  t.test('rows of a transaction that rolled back are never published', async t => {
    received.length = 0
    await t.rejects(db.transaction().execute(async trx => {
      await appendToOutbox(trx, SCHEMA, { exchange: EXCHANGE, routingKey: 'order_created', payload: { label: 'rolled-back' } })
      throw new Error('the state change failed')
    }))
    t.equal(await newRelay().publishPending(), 0)
    const rows = await sql<{ n: string }>`select count(*) as n from orders.outbox where payload->>'label' = 'rolled-back'`.execute(db)
    t.equal(Number(rows.rows[0]!.n), 0)
  })

  t.test('published rows are deleted once their retention has passed; pending rows never', async t => {
    const [published] = await append(1, 'old-published')
    await newRelay().publishPending()
    const [pendingId] = await db.transaction().execute(async trx => [await appendToOutbox(trx, SCHEMA, { exchange: 'missing.never', routingKey: 'x', payload: {} })])
    await sql`update orders.outbox set published_at = now() - interval '2 hours' where id = ${published}`.execute(db)
    await sql`update orders.outbox set created_at = now() - interval '3 hours' where id = ${pendingId}`.execute(db)
    const [recent] = await append(1, 'recent-published')
    await newRelay().publishPending().catch(() => 0) // the 'missing.never' row is refused; that's fine

    const relay = new OutboxRelay({ db, schema: SCHEMA, publisher: createEventPublisher(broker), log, retentionMs: 60 * 60_000 })
    const deleted = await relay.deletePublished()
    t.ok(deleted >= 1)
    const ids = (await db.withSchema(SCHEMA).selectFrom('outbox').select('id').execute()).map(r => r.id)
    t.notOk(ids.includes(published), 'the old published row is gone')
    t.ok(ids.includes(pendingId), 'a pending row stays, however old')
    t.ok(ids.includes(recent), 'a recently published row stays')
    await sql`delete from orders.outbox where id = ${pendingId}`.execute(db)
  })
})
