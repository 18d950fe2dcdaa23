/**
 * Least privilege in RabbitMQ: each service's user may do on the platform's vhost what its
 * publishers and consumers do (the topology of packages/contracts), and the broker refuses it
 * anything on another service's exchanges and queues. Against the real broker, on a vhost (and
 * users) of this test's own.
 */
import t, { type Test } from 'tap'
import { Connection } from 'rabbitmq-client'
import { randomUUID } from 'node:crypto'
import { ANY_STATUS_CHANGED, EVENT_EXCHANGES, EXCHANGES, NOTIFICATION_QUEUE_PREFIX, processorTopology, QUEUES, ROUTING_KEYS, statusChangedRoutingKey, type ServiceAccount } from '@orders/contracts'
import { createTestVhost, rabbitmqctl } from '@orders/test-support'
import { brokerDefinitions, brokerUser, createEventPublisher } from '../src/index.ts'

const vhost = await createTestVhost({ serviceUsers: true })
const connections: Connection[] = []
t.teardown(async () => {
  await Promise.all(connections.map(async connection => { await connection.close() }))
  await vhost.drop()
})
function connectAs (account: ServiceAccount): Connection {
  const connection = new Connection({ url: vhost.serviceUrls![account], retryLow: 50, retryHigh: 200 })
  connection.on('error', () => {}) // a refused operation closes its channel, never the connection
  connections.push(connection)
  return connection
}
const refused = async (t: Test, work: Promise<unknown>, what: string) =>
  await t.rejects(work, { code: 'ACCESS_REFUSED' }, what)

t.test('the user-service publishes to users.events, and may do nothing else', async t => {
  const connection = connectAs('user-service')
  const publisher = createEventPublisher(connection, EVENT_EXCHANGES.userEvents)
  t.teardown(async () => { await publisher.close() })
  await publisher.send({ exchange: EXCHANGES.userEvents, routingKey: ROUTING_KEYS.userRegistered, userId: brokerUser(vhost.serviceUrls!['user-service']) }, { ok: true })
  await refused(t, connection.queueDeclare({ queue: 'anything', exclusive: true }), 'declare a queue')
  await refused(t, connection.exchangeDeclare({ ...EVENT_EXCHANGES.orderEvents }), 'declare orders.events')
  const stray = connection.createPublisher({ confirm: true })
  t.teardown(async () => { await stray.close() })
  await refused(t, stray.send({ exchange: EXCHANGES.orderEvents, routingKey: ROUTING_KEYS.orderStatusChanged }, {}), 'publish to orders.events')
})

t.test('the order-service publishes to orders.events, binds and unbinds its replicas\' notification queues by user and consumes them, and nothing of the processor\'s', async t => {
  const connection = connectAs('order-service')
  const publisher = createEventPublisher(connection)
  t.teardown(async () => { await publisher.close() })
  const queue = `${NOTIFICATION_QUEUE_PREFIX}test.1`
  await connection.queueDeclare({ queue, exclusive: true, autoDelete: true, durable: false })
  const routingKey = statusChangedRoutingKey(randomUUID())
  await connection.queueBind({ exchange: EXCHANGES.orderEvents, queue, routingKey })
  await publisher.send({ exchange: EXCHANGES.orderEvents, routingKey, userId: brokerUser(vhost.serviceUrls!['order-service']) }, { hello: 1 })
  const got = await waitForMessage(connection, queue)
  t.same(got.body, { hello: 1 }, 'its own queue, bound to its own exchange by user, read by itself')
  await connection.queueUnbind({ exchange: EXCHANGES.orderEvents, queue, routingKey })

  await refused(t, connection.queueDeclare({ queue: 'order-service-scratch', exclusive: true }), 'declare a queue outside its notification queues')
  await refused(t, connection.exchangeDeclare({ exchange: EXCHANGES.processorWork, type: 'direct', durable: true }), 'declare the processor\'s exchange')
  const stray = connection.createPublisher({ confirm: true })
  t.teardown(async () => { await stray.close() })
  await refused(t, stray.send({ exchange: EXCHANGES.processorWork, routingKey: ROUTING_KEYS.orderCreated }, {}), 'publish straight into the processor\'s work exchange')
  await refused(t, stray.send({ exchange: EXCHANGES.userEvents, routingKey: ROUTING_KEYS.userRegistered }, {}), 'publish to users.events')
  await refused(t, connectAs('order-service').queueBind({ exchange: EXCHANGES.orderEvents, queue: QUEUES.orderProcessing, routingKey: ANY_STATUS_CHANGED }), 'bind the processor\'s work queue to status events')
})

t.test('the order-processor declares all it owns and binds its work queue to orders.events, but may not publish there, nor declare it', async t => {
  const connection = connectAs('order-processor')
  const topology = processorTopology([1000])
  for (const exchange of topology.exchanges) await connection.exchangeDeclare({ ...exchange })
  for (const queue of topology.queues) await connection.queueDeclare(queue)
  for (const binding of topology.queueBindings) await connection.queueBind(binding)
  t.ok((await connection.basicGet({ queue: QUEUES.orderProcessing })) === undefined, 'it reads its work queue (empty)')
  const publisher = connection.createPublisher({ confirm: true })
  t.teardown(async () => { await publisher.close() })
  await publisher.send({ exchange: EXCHANGES.processorDelay, routingKey: 'order-processor.delay.1000ms' }, { retry: 1 })

  await refused(t, connection.exchangeDeclare({ ...EVENT_EXCHANGES.orderEvents }), 'declare orders.events, another service\'s exchange')
  await refused(t, publisher.send({ exchange: EXCHANGES.orderEvents, routingKey: ROUTING_KEYS.orderStatusChanged }, { forged: true }), 'publish to orders.events')
  // The order-service's notification queue of the test above is gone with its connection; a fresh one:
  const orderService = connectAs('order-service')
  const queue = `${NOTIFICATION_QUEUE_PREFIX}test.2`
  await orderService.queueDeclare({ queue, durable: false, autoDelete: true })
  await refused(t, connection.basicGet({ queue }), 'read an order-service notification queue')
  await refused(t, connection.queueBind({ exchange: EXCHANGES.userEvents, queue: QUEUES.orderProcessing, routingKey: '#' }), 'bind to users.events')
})

t.test('the definitions give each user exactly the permissions of the contracts, and the vhost the event exchanges', async t => {
  const permissions = (await rabbitmqctl('list_permissions', '-p', vhost.name, '--no-table-headers')).trim().split('\n').map(line => line.split('\t'))
  const expected = brokerDefinitions({ vhost: vhost.name, services: vhost.serviceUrls, administrators: [{ user: 'guest' }] }).permissions
  t.same(permissions.sort(), expected.map(p => [p.user, p.configure, p.write, p.read]).sort())
  const exchanges = await rabbitmqctl('list_exchanges', '-p', vhost.name, '--no-table-headers', 'name', 'type', 'durable')
  for (const { exchange, type } of Object.values(EVENT_EXCHANGES)) t.match(exchanges, `${exchange}\t${type}\ttrue`)
})

t.test('the definitions refuse a user shared by two services, or one without a password', async t => {
  const urls = vhost.serviceUrls!
  t.throws(() => brokerDefinitions({ vhost: vhost.name, services: { ...urls, 'order-processor': urls['order-service'] } }), /would share the broker user/)
  const noPassword = new URL(urls['user-service'])
  noPassword.password = ''
  t.throws(() => brokerDefinitions({ vhost: vhost.name, services: { ...urls, 'user-service': noPassword.toString() } }), /user-service's AMQP URL has no password/)
  t.throws(() => brokerDefinitions({ vhost: 'elsewhere', services: urls }), /names the vhost/)
})

async function waitForMessage (connection: Connection, queue: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const message = await connection.basicGet({ queue, noAck: true })
    if (message !== undefined) return message
    if (Date.now() > deadline) throw new Error(`nothing arrived in ${queue}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
