import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import WebSocket from 'ws'
import pino from 'pino'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, statusChangedRoutingKey } from '@orders/contracts'
import { AccessTokenDenylist, brokerUser, createBrokerConnection, createEventPublisher, createServiceInstance } from '@orders/platform'
import { OutboxRelay } from '@orders/outbox'
import { createTestDatabase, createTestVhost, startTestTokenIssuer } from '@orders/test-support'
import orderServiceApp from '../../src/app.ts'
import { OrderNotificationHub } from '../../src/notifications/hub.ts'
import { consumeStatusEvents } from '../../src/notifications/status-events-consumer.ts'
import { ORDERS_SCHEMA } from '../../src/database.ts'
import { sampleItems } from '../helper.ts'

/**
 * One replica as server.ts wires it: relay, status-event consumer, hub, listening on a port,
 * as the order-service's own database role and broker user.
 */
t.test('live status changes over WebSocket', async t => {
  const database = await createTestDatabase()
  const vhost = await createTestVhost({ serviceUsers: true })
  const issuer = await startTestTokenIssuer()
  const logLines: string[] = []
  const logStream = new Writable({ write (chunk, _enc, done) { logLines.push(String(chunk)); done() } })
  const app = createServiceInstance({ service: 'order-service-test', logLevel: 'info', logStream })
  // Keep the service's own log lines to check what they leave out.
  const log = pino({ level: 'info' }, logStream)
  const amqpUrl = vhost.serviceUrls!['order-service']
  const broker = createBrokerConnection(amqpUrl, 'ws-test', log)
  const publisher = createEventPublisher(broker)
  const db = database.as('order-service')
  const relay = new OutboxRelay({ db, schema: ORDERS_SCHEMA, publisher, userId: brokerUser(amqpUrl), log })
  const hub = new OrderNotificationHub({ log })
  const feed = consumeStatusEvents({ broker, hub, instanceId: 'test', trustedPublisher: brokerUser(amqpUrl), log })
  await new Promise(resolve => feed.consumer.once('ready', resolve))
  const denylist = await AccessTokenDenylist.open({ log })
  await app.register(orderServiceApp, { db, broker, userServiceUrl: issuer.url, onOutboxCommitted: () => { relay.wake() }, hub, statusBindings: feed.bindings, denylist })
  await app.listen({ host: '127.0.0.1', port: 0 })
  relay.start()
  const base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.teardown(async () => {
    hub.closeAll()
    await app.close()
    await relay.stop()
    await feed.close()
    await publisher.close()
    await broker.close()
    await issuer.close()
    await vhost.drop()
    await database.drop()
  })

  const alice = randomUUID()
  const bob = randomUUID()
  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async (userId: string) => (await app.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(userId)}` }, payload: { items: sampleItems } })).json()
  const patch = async (id: string, status: string) => await app.inject({ method: 'PATCH', url: `/orders/${id}`, headers: service, payload: { status } })

  async function connect (query: string) {
    const socket = new WebSocket(`ws://${base}/orders/ws${query}`)
    const messages: any[] = []
    const waiters: Array<() => void> = []
    socket.on('message', data => { messages.push(JSON.parse(String(data))); waiters.splice(0).forEach(w => w()) })
    await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error('refused'), { statusCode: res.statusCode }))); socket.once('error', reject) })
    t.teardown(() => { socket.terminate() })
    return {
      socket,
      messages,
      async next (timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs
        while (messages.length === 0) {
          if (Date.now() > deadline) throw new Error('no message arrived')
          await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 100) })
        }
        return messages.shift()
      }
    }
  }
  async function refusedWith (query: string): Promise<number> {
    try {
      await connect(query)
      return 101
    } catch (err) {
      return (err as { statusCode: number }).statusCode
    }
  }

  t.test('the owner hears every status change of their order, as GET /orders/{id} shows it', async t => {
    const client = await connect(`?access_token=${issuer.userToken(alice)}`)
    const order = await place(alice)
    await patch(order.id, 'processing')
    const first = await client.next()
    t.match(first, { type: 'order.status_changed', order: { id: order.id, status: 'processing' } })
    await patch(order.id, 'completed')
    const second = await client.next()
    const current = (await app.inject({ url: `/orders/${order.id}`, headers: service })).json()
    t.same(second, { type: 'order.status_changed', order: current })
  })

  t.test("nobody hears of another user's orders", async t => {
    const bobClient = await connect(`?access_token=${issuer.userToken(bob)}`)
    const aliceOrder = await place(alice)
    await patch(aliceOrder.id, 'processing')
    const bobOrder = await place(bob)
    await patch(bobOrder.id, 'processing')
    const heard = await bobClient.next()
    t.equal(heard.order.id, bobOrder.id, "bob's first message is about his own order")
    t.equal(bobClient.messages.length, 0)
  })

  // Any client of the broker that may publish to orders.events (here guest, its administrator)
  // sends an event whose body is valid, for an order whose owner is listening.
  async function forge (order: { id: string, user_id: string }, userId?: string) {
    const forger = new Connection(vhost.url)
    const forged = forger.createPublisher({ confirm: true })
    t.teardown(async () => { await forged.close(); await forger.close() })
    const messageId = randomUUID()
    const now = new Date().toISOString()
    const event = { type: 'order_status_changed', version: 1, occurred_at: now, data: { order: { ...order, status: 'failed', failure_reason: 'payment_declined', updated_at: now }, previous_status: 'new' } }
    await forged.send({ exchange: EXCHANGES.orderEvents, routingKey: statusChangedRoutingKey(order.user_id), messageId, userId, contentType: 'application/json' }, event)
    return messageId
  }
  async function logged (pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = logLines.find(l => pattern.test(l))
      if (line !== undefined) return line
      if (Date.now() > deadline) throw new Error(`no log line matched ${String(pattern)}`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  t.test("a status event the order-service's broker user did not publish reaches no socket, and is logged; the next genuine one does", async t => {
    const client = await connect(`?access_token=${issuer.userToken(alice)}`)
    const order = await place(alice)
    const forgeries = [
      { userId: undefined, messageId: await forge(order) },
      { userId: brokerUser(vhost.url), messageId: await forge(order, brokerUser(vhost.url)) }
    ]
    // Confirmed in the replica's queue before the genuine event exists: had they been pushed, they would come first.
    await patch(order.id, 'processing')
    t.match(await client.next(), { order: { id: order.id, status: 'processing' } }, 'the first message the owner hears is the genuine one')
    t.same(client.messages, [], 'and nothing else')
    for (const { userId, messageId } of forgeries) {
      const line = JSON.parse(await logged(new RegExp(`"message_id":"${messageId}"`)))
      t.match(line, { level: 40, msg: /did not publish/, user_id: userId ?? null }, `the forgery is logged, with the user-id it carried (${userId ?? 'none'})`)
    }
  })

  t.test("the broker refuses a publish whose user-id is not the connection's user", async t => {
    const client = await connect(`?access_token=${issuer.userToken(alice)}`)
    const order = await place(alice)
    await t.rejects(forge(order, brokerUser(amqpUrl)), { code: 'PRECONDITION_FAILED', message: /user_id property set to/ })
    await patch(order.id, 'processing')
    t.match(await client.next(), { order: { id: order.id, status: 'processing' } })
    t.same(client.messages, [], 'nothing else arrived')
  })

  t.test('the upgrade is refused without a valid user token', async t => {
    const now = Math.floor(Date.now() / 1000)
    t.equal(await refusedWith(''), 401, 'no token')
    t.equal(await refusedWith('?access_token=garbage'), 401, 'garbage')
    t.equal(await refusedWith(`?access_token=${issuer.userToken(alice, { claims: { iat: now - 2000, exp: now - 1000 } })}`), 401, 'expired')
    t.equal(await refusedWith(`?access_token=${issuer.userToken(alice, { key: issuer.otherKey() })}`), 401, 'wrong key')
    t.equal(await refusedWith(`?access_token=${issuer.serviceToken()}`), 403, 'a service token')
  })

  t.test('the socket is closed with 4401 when its token expires', async t => {
    const now = Math.floor(Date.now() / 1000)
    const client = await connect(`?access_token=${issuer.userToken(alice, { claims: { exp: now + 1 } })}`)
    const [code] = await new Promise<[number]>(resolve => client.socket.once('close', (c: number) => resolve([c])))
    t.equal(code, 4401)
  })

  t.test('the sockets of a revoked token are closed with 4401, others stay open, and it cannot open another', async t => {
    const jti = randomUUID()
    const token = issuer.userToken(alice, { claims: { jti } })
    const revokedOne = await connect(`?access_token=${token}`)
    const other = await connect(`?access_token=${issuer.userToken(alice)}`)
    const closed = new Promise<[number, string]>(resolve => revokedOne.socket.once('close', (code: number, reason: Buffer) => resolve([code, String(reason)])))
    await denylist.revoke([{ jti, expiresAt: Math.floor(Date.now() / 1000) + 900 }])
    t.same(await closed, [4401, 'access token revoked'])
    t.equal(other.socket.readyState, WebSocket.OPEN, 'another token\'s socket stays open')
    t.equal(await refusedWith(`?access_token=${token}`), 401, 'the revoked token cannot open a new one')
  })

  t.test('the token in the query string never reaches the logs', async t => {
    const token = issuer.userToken(alice)
    const client = await connect(`?access_token=${token}`)
    client.socket.close()
    const signature = token.split('.')[2]!
    t.ok(logLines.some(line => line.includes('/orders/ws?access_token=[Redacted]')), 'the upgrade request is logged, redacted')
    t.notOk(logLines.some(line => line.includes(signature)), 'no log line holds the token')
  })
})
