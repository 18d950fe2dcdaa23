/**
 * What the relay does when its publisher fails in the two ways a broker node's loss shows
 * itself: a NACK (RabbitMQ 3.10 NACKs every publish on a channel that reconnected during a
 * quorum queue's leader election) and a confirm that never comes. The failing publisher is
 * a stand-in; the second one is real, on a real vhost. The same on a real cluster, with a node
 * killed: scripts/system/test-ha/relay-failover.test.ts.
 */
import t from 'tap'
import { AMQPError, Connection, type Publisher } from 'rabbitmq-client'
import pino from 'pino'
import { sql } from 'kysely'
import { createEventPublisher } from '@orders/platform'
import { createTestDatabase, createTestVhost } from '@orders/test-support'
import { appendToOutbox, OutboxRelay } from '@orders/outbox'

const SCHEMA = 'orders'
const EXCHANGE = 'orders.events'
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/** The error rabbitmq-client rejects a send with when the broker NACKs it. */
function nack (): AMQPError {
  return Object.assign(new AMQPError('message rejected by server'), { code: 'NACK' })
}

/** A publisher whose every send fails as `fail` says; it remembers being closed. */
function failingPublisher (fail: () => Promise<void>): Publisher & { closed: boolean } {
  const publisher = { closed: false, send: fail, close: async () => { publisher.closed = true } }
  return publisher as unknown as Publisher & { closed: boolean }
}

t.test('a failing publisher is replaced, and its rows go out on the new one', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const broker = new Connection(vhost.url)
  const realPublishers: Publisher[] = []
  t.teardown(async () => {
    await Promise.all(realPublishers.map(async publisher => { await publisher.close() }))
    await broker.close()
    await vhost.drop()
    await database.drop()
  })
  const { db } = database
  await broker.exchangeDeclare({ exchange: EXCHANGE, type: 'topic', durable: true })
  const pending = async () => Number((await db.withSchema(SCHEMA).selectFrom('outbox').select(eb => eb.fn.countAll().as('n')).where('published_at', 'is', null).executeTakeFirstOrThrow()).n)
  const append = async (count: number) => await db.transaction().execute(async trx => {
    for (let i = 0; i < count; i++) await appendToOutbox(trx, SCHEMA, { exchange: EXCHANGE, routingKey: 'order_created', payload: { i } })
  })
  /** The relay gets `first`, then real publishers. */
  const relayStartingWith = (first: Publisher, confirmTimeoutMs?: number) => {
    const created: Publisher[] = []
    const relay = new OutboxRelay({
      db,
      schema: SCHEMA,
      log,
      confirmTimeoutMs,
      publisher: () => {
        const publisher = created.length === 0 ? first : createEventPublisher(broker)
        if (created.length > 0) realPublishers.push(publisher)
        created.push(publisher)
        return publisher
      }
    })
    return { relay, created }
  }

  t.test('a NACK leaves the batch pending; the next batch goes out on a new publisher', async t => {
    await append(3)
    const nacking = failingPublisher(async () => { throw nack() })
    const { relay, created } = relayStartingWith(nacking)
    await t.rejects(relay.publishPending(), { code: 'NACK' })
    t.equal(await pending(), 3, 'every row of the batch is still pending')
    t.ok(nacking.closed, 'the NACKing publisher is closed')
    t.equal(await relay.publishPending(), 3, 'the retry publishes them')
    t.equal(created.length, 2, 'on a second publisher')
    t.equal(await pending(), 0)
  })

  t.test('a confirm that never comes leaves the batch pending; the next batch goes out on a new publisher', async t => {
    await append(2)
    const silent = failingPublisher(async () => await new Promise<void>(() => {}))
    const { relay, created } = relayStartingWith(silent, 300)
    const started = Date.now()
    await t.rejects(relay.publishPending(), { code: 'CONFIRM_TIMEOUT' })
    t.ok(Date.now() - started < 5_000, 'the batch gives up after the confirm timeout')
    t.equal(await pending(), 2, 'the rows are pending again (not locked by a transaction left open)')
    t.ok(silent.closed)
    t.equal(await relay.publishPending(), 2)
    t.equal(created.length, 2)
  })

  t.test('rows leased by a relay that hangs (or died) mid-batch are not held in a transaction, and go to another relay once the lease runs out', async t => {
    await append(3)
    let claimed: () => void = () => {}
    const sending = new Promise<void>(resolve => { claimed = resolve })
    // Its sends start once its claim has returned; their confirms never come.
    const hanging = failingPublisher(async () => { claimed(); await new Promise<void>(() => {}) })
    const stuck = new OutboxRelay({ db, schema: SCHEMA, log, publisher: hanging, confirmTimeoutMs: 1_000, leaseMs: 500 })
    const stuckBatch = stuck.publishPending()
    await sending
    const publisher = createEventPublisher(broker)
    realPublishers.push(publisher)
    const other = new OutboxRelay({ db, schema: SCHEMA, log, publisher })
    t.equal(await other.publishPending(), 0, 'another relay leaves leased rows alone')
    const { rows: [lease] } = await sql<{ ms: number }>`select extract(epoch from max(leased_until) - now()) * 1000 as ms from orders.outbox where published_at is null`.execute(db)
    t.ok(lease!.ms > 0 && lease!.ms <= 500, `leased for leaseMs (${Math.round(lease!.ms)} ms left)`)
    const locked = await sql`select id from orders.outbox where published_at is null for update nowait`.execute(db).then(() => false, () => true)
    t.notOk(locked, 'no transaction holds them while the stuck relay waits for its confirms')
    // As if leaseMs had passed (the relay that held them crashed, or is stuck).
    await sql`update orders.outbox set leased_until = now() - interval '1 millisecond' where published_at is null`.execute(db)
    t.equal(await other.publishPending(), 3, 'once the lease has run out, another relay publishes them')
    t.equal(await pending(), 0)
    await t.rejects(stuckBatch, { code: 'CONFIRM_TIMEOUT' })
    t.equal(await pending(), 0, 'the stuck relay giving up later hands back nothing that was published')
  })

  t.test('a relay given a publisher (not a function) keeps it after a NACK, and its rows stay pending', async t => {
    await append(1)
    const nacking = failingPublisher(async () => { throw nack() })
    const relay = new OutboxRelay({ db, schema: SCHEMA, log, publisher: nacking })
    await t.rejects(relay.publishPending(), { code: 'NACK' })
    await t.rejects(relay.publishPending(), { code: 'NACK' })
    t.notOk(nacking.closed)
    t.equal(await pending(), 1)
    await db.withSchema(SCHEMA).deleteFrom('outbox').where('published_at', 'is', null).execute()
  })
})
