import t, { type Test } from 'tap'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import pino from 'pino'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, statusChangedRoutingKey } from '@orders/contracts'
import { AccessTokenDenylist, brokerUser, createBrokerConnection, createEventPublisher, createServiceInstance } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import { createTestDatabase, createTestVhost, rabbitmqctl, startTestTokenIssuer, type TestVhost } from '@orders/test-support'
import orderServiceApp from '../../src/app.ts'
import { OrderNotificationHub } from '../../src/notifications/hub.ts'
import { consumeStatusEvents } from '../../src/notifications/status-events-consumer.ts'
import { ORDERS_SCHEMA } from '../../src/database.ts'
import { sampleItems } from '../helper.ts'

/**
 * Two replicas as server.ts wires them (their own broker connection, status-event consumer and
 * hub, as the order-service's broker user), one relay: which replica's queue gets which status
 * events, read from the replicas' delivery counts and the broker's bindings.
 */
t.test('status events reach only the replicas where someone watches', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost({ serviceUsers: true })
  const issuer = await startTestTokenIssuer()
  const log = pino({ level: 'silent' })
  const amqpUrl = vhost.serviceUrls!['order-service']
  const db = database.as('order-service')
  const relayBroker = createBrokerConnection(amqpUrl, `${vhost.name}-relay`, log)
  const publisher = createEventPublisher(relayBroker)
  const relay = new OutboxRelay({ db, schema: ORDERS_SCHEMA, publisher, userId: brokerUser(amqpUrl), log })
  const denylist = await AccessTokenDenylist.open({ log })

  async function startReplica (name: string) {
    const connectionName = `${vhost.name}-${name}`
    const broker = createBrokerConnection(amqpUrl, connectionName, log)
    const hub = new OrderNotificationHub({ log })
    const feed = consumeStatusEvents({ broker, hub, instanceId: name, trustedPublisher: brokerUser(amqpUrl), log })
    await once(feed.consumer, 'ready')
    const app = createServiceInstance({ service: `order-service-${name}`, logLevel: 'silent' })
    await app.register(orderServiceApp, { db, broker, userServiceUrl: issuer.url, onOutboxCommitted: () => { relay.wake() }, hub, statusBindings: feed.bindings, denylist })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`
    return {
      app,
      feed,
      connectionName,
      base,
      async stop () {
        hub.closeAll()
        await app.close()
        await feed.close()
        await broker.close()
      }
    }
  }
  const a = await startReplica('a')
  const b = await startReplica('b')
  relay.start()
  t.teardown(async () => {
    await a.stop()
    await b.stop()
    await relay.stop()
    await publisher.close()
    await relayBroker.close()
    await denylist.close()
    await issuer.close()
    await vhost.drop()
    await database.drop()
  })

  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async (userId: string) => (await a.app.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(userId)}` }, payload: { items: sampleItems } })).json()
  const patch = async (id: string, status: string) => { t.equal((await a.app.inject({ method: 'PATCH', url: `/orders/${id}`, headers: service, payload: { status } })).statusCode, 200) }

  t.test('a replica with no one watching receives no status event; the owner hears theirs on the replica they are on', async t => {
    const alice = randomUUID()
    const client = await watch(t, b.base, issuer.userToken(alice))
    const before = a.feed.received
    const order = await place(alice)
    await patch(order.id, 'processing')
    await patch(order.id, 'completed')
    t.match(await client.next(), { order: { id: order.id, status: 'processing' } })
    t.match(await client.next(), { order: { id: order.id, status: 'completed' } })
    // Both were confirmed, so routed to every queue bound to them, before B pushed them. A
    // message put straight into A's queue now comes after anything they put there.
    await sendStraightTo(vhost, a.feed.queue)
    await until(() => a.feed.received > before)
    t.equal(a.feed.received - before, 1, "A's queue held only the message sent straight to it")
    t.same(await statusBindingsOf(vhost, a.feed.queue), [], 'and binds no status events at all')
  })

  t.test("another user's status events never reach a replica that only their neighbour watches on", async t => {
    const [alice, bob] = [randomUUID(), randomUUID()]
    const aliceClient = await watch(t, a.base, issuer.userToken(alice))
    await watch(t, b.base, issuer.userToken(bob))
    const bobOrder = await place(bob)
    const aliceOrder = await place(alice)
    const before = a.feed.received
    // One relay publishes them in this order, on one channel: bob's would be in A's queue first.
    await patch(bobOrder.id, 'processing')
    await patch(aliceOrder.id, 'processing')
    t.match(await aliceClient.next(), { order: { id: aliceOrder.id } })
    t.equal(a.feed.received - before, 1, "A received alice's event and not bob's")
    t.same(await statusBindingsOf(vhost, a.feed.queue), [statusChangedRoutingKey(alice)])
  })

  t.test("a user's binding stays while one of their sockets is open, and goes with the last", async t => {
    const alice = randomUUID()
    const first = await watch(t, a.base, issuer.userToken(alice))
    const second = await watch(t, a.base, issuer.userToken(alice))
    t.same(await statusBindingsOf(vhost, a.feed.queue), [statusChangedRoutingKey(alice)], 'bound once for two sockets')
    first.socket.close()
    await once(first.socket, 'close')
    const order = await place(alice)
    await patch(order.id, 'processing')
    t.match(await second.next(), { order: { id: order.id, status: 'processing' } }, 'the other socket still hears')
    second.socket.close()
    await once(second.socket, 'close')
    await until(() => !a.feed.bindings.isBound(alice))
    t.same(await statusBindingsOf(vhost, a.feed.queue), [], 'unbound on the broker')
  })

  t.test('after the broker drops the connection, the bindings of the users still connected are back', async t => {
    const [alice, bob] = [randomUUID(), randomUUID()]
    const aliceClient = await watch(t, a.base, issuer.userToken(alice))
    const bobClient = await watch(t, a.base, issuer.userToken(bob))
    bobClient.socket.close()
    await once(bobClient.socket, 'close')
    await until(() => !a.feed.bindings.isBound(bob))
    const ready = once(a.feed.consumer, 'ready')
    await closeConnection(vhost, a.connectionName)
    await ready
    await until(() => a.feed.bindings.isBound(alice))
    t.same(await statusBindingsOf(vhost, a.feed.queue), [statusChangedRoutingKey(alice)], 'alice bound again, bob not')
    const order = await place(alice)
    await patch(order.id, 'processing')
    t.match(await aliceClient.next(), { order: { id: order.id, status: 'processing' } }, 'and her socket, open all along, hears her order')
  })
})

async function watch (t: Test, base: string, token: string) {
  const socket = new WebSocket(`ws://${base}/orders/ws?access_token=${token}`)
  const messages: any[] = []
  socket.on('message', data => { messages.push(JSON.parse(String(data))) })
  await once(socket, 'open')
  t.teardown(() => { socket.terminate() })
  return {
    socket,
    async next () {
      while (messages.length === 0) await once(socket, 'message', { signal: AbortSignal.timeout(10_000) })
      return messages.shift()
    }
  }
}

async function until (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** A message put into `queue` through the default exchange, by the tests' administrator. */
async function sendStraightTo (vhost: TestVhost, queue: string): Promise<void> {
  const connection = new Connection(vhost.url)
  const publisher = connection.createPublisher({ confirm: true })
  await publisher.send({ exchange: '', routingKey: queue }, { sentinel: true })
  await publisher.close()
  await connection.close()
}

/** The routing keys `orders.events` is bound to `queue` with, as the broker lists them. */
async function statusBindingsOf (vhost: TestVhost, queue: string): Promise<string[]> {
  const lines = (await rabbitmqctl('list_bindings', '-p', vhost.name, 'source_name', 'destination_name', 'routing_key')).trim().split('\n')
  return lines.map(line => line.split('\t')).filter(([source, destination]) => source === EXCHANGES.orderEvents && destination === queue).map(([, , key]) => key!).sort()
}

/** `rabbitmqctl close_connection` on the one connection of this vhost named `name`. */
async function closeConnection (vhost: TestVhost, name: string): Promise<void> {
  const lines = (await rabbitmqctl('list_connections', 'pid', 'vhost', 'client_properties')).trim().split('\n')
  const line = lines.find(l => l.split('\t')[1] === vhost.name && l.includes(`{"connection_name","${name}"}`))
  if (line === undefined) throw new Error(`no connection ${name} on ${vhost.name}`)
  await rabbitmqctl('close_connection', line.split('\t')[0]!, 'test: the connection is dropped')
}
