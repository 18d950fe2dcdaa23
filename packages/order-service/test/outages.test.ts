import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import pino from 'pino'
import { createBrokerConnection, createDatabase, createEventPublisher, createServiceInstance } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import { QUEUES, processorTopology } from '@orders/contracts'
import { createTestDatabase, createTestVhost, startTcpProxy, startTestTokenIssuer, viaProxy } from '@orders/test-support'
import orderServiceApp from '../src/app.ts'
import { OrderNotificationHub } from '../src/notifications/hub.ts'
import { ORDERS_SCHEMA, type OrdersDatabase } from '../src/database.ts'
import { sampleItems } from './helper.ts'

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/**
 * The order-service with its database and its broker behind TCP proxies that a test can cut,
 * like an outage, and restore.
 */
t.test('outages', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost()
  const issuer = await startTestTokenIssuer()
  const dbProxy = await startTcpProxy({ port: Number(new URL(database.url).port || 5432) })
  const brokerProxy = await startTcpProxy({ port: Number(new URL(vhost.url).port || 5672) })
  const db = createDatabase<OrdersDatabase>({ connectionString: viaProxy(database.serviceUrls['order-service'], dbProxy), poolSize: 4 })
  const broker = createBrokerConnection(viaProxy(vhost.url, brokerProxy), 'outage-test', log)
  const publisher = createEventPublisher(broker)
  const relay = new OutboxRelay({ db, schema: ORDERS_SCHEMA, publisher, log, pollIntervalMs: 100 })
  const app = createServiceInstance({ service: 'order-service-test', logLevel: 'silent' })
  await app.register(orderServiceApp, { db, broker, userServiceUrl: issuer.url, onOutboxCommitted: () => { relay.wake() }, hub: new OrderNotificationHub({ log }) })
  await app.ready()
  relay.start()
  // Counts what reaches the processor's queue, directly on the broker (not through the proxy).
  const observer = new Connection(vhost.url)
  // The processor's work queue, declared as the processor declares it: the order-service declares only its exchange.
  const { workQueue, workQueueExchanges, workQueueBindings } = processorTopology([])
  for (const exchange of workQueueExchanges) await observer.exchangeDeclare({ ...exchange })
  await observer.queueDeclare(workQueue)
  for (const binding of workQueueBindings) await observer.queueBind(binding)
  t.teardown(async () => {
    await app.close()
    await relay.stop()
    await publisher.close()
    await broker.close()
    await db.destroy()
    await observer.close()
    await dbProxy.close()
    await brokerProxy.close()
    await issuer.close()
    await vhost.drop()
    await database.drop()
  })

  const auth = { authorization: `Bearer ${issuer.userToken(randomUUID())}` }
  const placeOrder = () => app.inject({ method: 'POST', url: '/orders', headers: auth, payload: { items: sampleItems } })
  const countOrders = async () => Number((await database.db.withSchema('orders').selectFrom('orders').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  const pendingEvents = async () => Number((await database.db.withSchema('orders').selectFrom('outbox').select(eb => eb.fn.countAll().as('n')).where('published_at', 'is', null).executeTakeFirstOrThrow()).n)
  async function eventually (condition: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  t.test('with the database down, the API answers 503 with a message and writes nothing; it recovers by itself', async t => {
    t.equal((await placeOrder()).statusCode, 201)
    const before = await countOrders()
    dbProxy.cut()
    const res = await placeOrder()
    t.equal(res.statusCode, 503)
    t.match(res.json(), { statusCode: 503, error: 'Service Unavailable', message: /database is unavailable/ })
    t.equal(res.headers['retry-after'], '1')
    const ready = await app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 503)
    t.match(ready.json(), { status: 'not ready', checks: { database: /^down/ } })
    t.equal((await app.inject({ url: '/orders', headers: auth })).statusCode, 503, 'reads too')

    dbProxy.restore()
    await eventually(async () => (await placeOrder()).statusCode === 201, 'orders accepted again')
    t.equal(await countOrders(), before + 1, 'only the order placed after the recovery was stored')
    t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  })

  t.test('with the broker down, orders are still accepted; their events go out once it is back', async t => {
    await eventually(async () => broker.ready, 'broker connected')
    await eventually(async () => (await pendingEvents()) === 0, 'outbox drained')
    const { messageCount: queuedBefore } = await observer.queueDeclare({ queue: QUEUES.orderProcessing, passive: true })

    brokerProxy.cut()
    const placed = []
    for (let i = 0; i < 5; i++) {
      const res = await placeOrder()
      t.equal(res.statusCode, 201, `order ${i} accepted while the broker is down`)
      placed.push(res.json().id)
    }
    t.equal((await app.inject({ url: '/readyz' })).json().checks.broker, 'down: not connected to RabbitMQ')
    t.ok(await pendingEvents() >= 5, 'the events wait in the outbox')

    brokerProxy.restore()
    await eventually(async () => (await pendingEvents()) === 0, 'outbox drained after the broker came back')
    const { messageCount } = await observer.queueDeclare({ queue: QUEUES.orderProcessing, passive: true })
    t.equal(messageCount - queuedBefore, 5, 'every order_created reached the processing queue, once')
  })
})
