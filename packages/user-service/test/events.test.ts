import t from 'tap'
import { createBrokerConnection } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import { createTestVhost } from '@orders/test-support'
import { buildUserService } from './helper.ts'

t.test('a registration reaches RabbitMQ as a user_registered event on users.events', async t => {
  const vhost = await createTestVhost()
  let relay: OutboxRelay | undefined
  // Wired as in server.ts: the app wakes the relay after each commit.
  const { app, db } = await buildUserService(t, { onOutboxCommitted: () => { relay?.wake() } })
  const connection = createBrokerConnection(vhost.url, 'user-service-events-test', app.log)
  const publisher = connection.createPublisher({ confirm: true, exchanges: [{ exchange: 'users.events', type: 'topic', durable: true }] })
  // A long poll interval: the event arriving quickly shows that the wake-up, not polling, sent it.
  relay = new OutboxRelay({ db, schema: 'users', publisher, log: app.log, pollIntervalMs: 60_000 })
  t.teardown(async () => {
    await relay?.stop()
    await publisher.close()
    await connection.close()
    await vhost.drop()
  })

  // A consumer's queue, bound before anything is published (unrouted messages are dropped).
  await connection.exchangeDeclare({ exchange: 'users.events', type: 'topic', durable: true })
  const { queue } = await connection.queueDeclare({ exclusive: true })
  await connection.queueBind({ queue, exchange: 'users.events', routingKey: 'user_registered' })
  relay.start()

  const res = await app.inject({ method: 'POST', url: '/users', headers: { 'x-request-id': 'req-event-1' }, payload: { email: 'Ada@Example.com', password: 'correct horse battery' } })
  t.equal(res.statusCode, 201)
  const user = res.json()

  const message = await receive(() => connection.basicGet({ queue, noAck: true }), 5_000)
  const row = await db.withSchema('users').selectFrom('outbox').selectAll().executeTakeFirstOrThrow()

  t.test('the message is the UserRegisteredV1 event of the new account', async t => {
    t.same(message.body, { type: 'user_registered', version: 1, occurred_at: user.created_at, data: { user } })
    t.match(message, { exchange: 'users.events', routingKey: 'user_registered', contentType: 'application/json' })
  })

  t.test('its messageId is the outbox row id, so consumers can recognise a redelivery', async t => {
    t.equal(message.messageId, row.id)
  })

  t.test('it carries the request id of the registration', async t => {
    t.equal(message.headers?.['x-request-id'], 'req-event-1')
    t.equal(message.correlationId, 'req-event-1')
  })

  t.test('the outbox row is marked published', async t => {
    t.ok(row.published_at instanceof Date)
  })
})

async function receive<M> (get: () => Promise<M | undefined>, timeoutMs: number): Promise<M> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const message = await get()
    if (message !== undefined) return message
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`no message within ${timeoutMs} ms`)
}
