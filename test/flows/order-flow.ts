/**
 * The order's path through the gateway: register, log in, place an order and see it complete
 * (or fail over the payment limit); who may read or change what; errors as JSON; both replicas
 * serving; a redelivered order_created changing nothing. Leaves every process running.
 */
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import { EXCHANGES, ROUTING_KEYS, statusChangedRoutingKey } from '@orders/contracts'
import { call, registerAndLogin, waitForLogLine, waitForOrderStatus, type TestSystem } from '../system-helper.ts'

export async function orderFlow (t: Test, { system, gateway, lines, db, amqpUrl }: TestSystem) {
  const email = `alice-${randomUUID()}@example.com`

  t.test('register → login → place an order → it is completed', async t => {
    const password = 'correct horse battery'
    const registered = await call(`${gateway}/users`, { method: 'POST', body: { email, password } })
    t.equal(registered.status, 201)
    t.match(registered.body, { id: String, email, created_at: String })
    t.notOk('password' in registered.body)

    const login = await call(`${gateway}/login`, { method: 'POST', body: { email: email.toUpperCase(), password } })
    t.equal(login.status, 200)
    t.match(login.body, { access_token: String, token_type: 'Bearer', expires_in: Number })
    const token = login.body.access_token

    const me = await call(`${gateway}/users/me`, { token })
    t.same(me.body, registered.body)

    const created = await call(`${gateway}/orders`, {
      method: 'POST', token, headers: { 'x-request-id': 'e2e-trace-1' }, body: { items: [{ sku: 'BOOK-1', quantity: 3, unit_price: 499 }, { sku: 'PEN', quantity: 1, unit_price: 100 }] }
    })
    t.equal(created.status, 201)
    t.match(created.body, { status: 'new', total: 1597, user_id: registered.body.id, failure_reason: null })
    t.equal(created.headers.get('x-request-id'), 'e2e-trace-1')

    const { order } = await waitForOrderStatus(gateway, token, created.body.id, ['completed', 'failed'])
    t.match(order, { id: created.body.id, status: 'completed', failure_reason: null, total: 1597 })
    t.ok(Date.parse(order.updated_at) >= Date.parse(order.created_at))

    const list = await call(`${gateway}/orders`, { token })
    t.equal(list.status, 200)
    t.same(list.body.orders.map((o: { id: string }) => o.id), [created.body.id])

    // One request id joins the gateway, the order-service, the processor and its callbacks.
    const traced = lines.filter(line => line.includes('e2e-trace-1'))
    t.ok(traced.some(line => line.startsWith('order-processor')), 'the processor logged the request id from the message')
    t.ok(traced.some(line => line.startsWith('haproxy')), 'the gateway logged it')
  })

  t.test('an order over the payment limit fails with payment_declined', async t => {
    const { token } = await registerAndLogin(gateway, `big-spender-${randomUUID()}@example.com`)
    const created = await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'YACHT', quantity: 2, unit_price: 5_000_001 }] } })
    t.equal(created.status, 201)
    const { order } = await waitForOrderStatus(gateway, token, created.body.id, ['completed', 'failed'])
    t.match(order, { status: 'failed', failure_reason: 'payment_declined', total: 10_000_002 })
  })

  t.test('another user can neither read, list nor change my order', async t => {
    const alice = await registerAndLogin(gateway, `a-${randomUUID()}@example.com`)
    const bob = await registerAndLogin(gateway, `b-${randomUUID()}@example.com`)
    const order = (await call(`${gateway}/orders`, { method: 'POST', token: alice.token, body: { items: [{ sku: 'A', quantity: 1, unit_price: 1 }] } })).body

    t.equal((await call(`${gateway}/orders/${order.id}`, { token: bob.token })).status, 404)
    t.same((await call(`${gateway}/orders`, { token: bob.token })).body, { orders: [], next_cursor: null })
    const patched = await call(`${gateway}/orders/${order.id}`, { method: 'PATCH', token: bob.token, body: { status: 'failed', failure_reason: 'payment_declined' } })
    t.equal(patched.status, 403)
    const own = await call(`${gateway}/orders/${order.id}`, { method: 'PATCH', token: alice.token, body: { status: 'completed' } })
    t.equal(own.status, 403, 'not even the owner may set a status')
  })

  t.test('only the processor’s client credentials get a status-changing token', async t => {
    const { clientId, clientSecret } = system.processorClient
    const wrong = await call(`${gateway}/oauth/token`, { method: 'POST', body: { grant_type: 'client_credentials', client_id: clientId, client_secret: 'guess' } })
    t.equal(wrong.status, 401)
    const granted = await call(`${gateway}/oauth/token`, { method: 'POST', body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'orders:status' } })
    t.equal(granted.status, 200)

    const { token } = await registerAndLogin(gateway, `c-${randomUUID()}@example.com`)
    const order = (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'A', quantity: 1, unit_price: 1 }] } })).body
    await waitForOrderStatus(gateway, token, order.id, ['completed'])
    const illegal = await call(`${gateway}/orders/${order.id}`, { method: 'PATCH', token: granted.body.access_token, body: { status: 'processing' } })
    t.equal(illegal.status, 409, 'a completed order cannot move back')
    t.equal(illegal.body.statusCode, 409)
  })

  t.test('the gateway serves the JWKS and spreads orders over both replicas', async t => {
    const jwks = await call(`${gateway}/.well-known/jwks.json`)
    t.equal(jwks.status, 200)
    t.ok(jwks.body.keys.length >= 1)
    t.ok(jwks.body.keys.every((k: Record<string, unknown>) => !('d' in k)), 'no private key material')

    const { token } = await registerAndLogin(gateway, `d-${randomUUID()}@example.com`)
    for (let i = 0; i < 6; i++) await call(`${gateway}/orders`, { token, headers: { 'x-request-id': `e2e-rr-${i}` } })
    const servedBy = new Set(lines.filter(l => /e2e-rr-\d/.test(l) && l.startsWith('order-service')).map(l => l.split(' ')[0]))
    t.same([...servedBy].sort(), ['order-service-1', 'order-service-2'])
  })

  t.test('errors through the gateway are JSON with a message', async t => {
    const { token } = await registerAndLogin(gateway, `e-${randomUUID()}@example.com`)
    const cases: Array<[string, Parameters<typeof call>[1], number]> = [
      ['/orders', { method: 'POST', token, body: { items: [{ sku: 'bad sku', quantity: 1, unit_price: 1 }] } }, 400],
      ['/orders', { method: 'POST', body: { items: [] } }, 401],
      ['/orders/not-a-uuid', { token }, 400],
      [`/orders/${randomUUID()}`, { token }, 404],
      ['/users', { method: 'POST', body: { email: 'not-an-email', password: 'long enough' } }, 400],
      ['/login', { method: 'POST', body: { email: 'nobody@example.com', password: 'whatever1' } }, 401],
      ['/orders', { method: 'POST', token, body: JSON.stringify({ items: [], pad: 'x'.repeat(1024 * 1024 + 10) }) }, 413]
    ]
    for (const [path, init, status] of cases) {
      const res = await call(`${gateway}${path}`, init)
      t.equal(res.status, status, `${init?.method ?? 'GET'} ${path}`)
      t.type(res.body.message, 'string', `${path} has a message`)
    }
  })

  t.test('a redelivered order_created for a processed order changes nothing', async t => {
    const { token } = await registerAndLogin(gateway, `f-${randomUUID()}@example.com`)
    const created = (await call(`${gateway}/orders`, { method: 'POST', token, body: { items: [{ sku: 'A', quantity: 1, unit_price: 1 }] } })).body
    const { order: completed } = await waitForOrderStatus(gateway, token, created.id, ['completed'])
    const eventsOf = async () => (await db.withSchema('orders').selectFrom('outbox').select(['routing_key', 'payload', 'id'])
      .where(eb => eb(eb.ref('payload', '->').key('data' as never).key('order' as never).key('id' as never), '=', JSON.stringify(created.id) as never))
      .execute())
    const before = await eventsOf()
    const { orderCreated } = ROUTING_KEYS
    const orderStatusChanged = statusChangedRoutingKey(created.user_id)
    t.same(before.map(e => e.routing_key).sort(), [orderCreated, orderStatusChanged, orderStatusChanged])

    // Publish the very same message again, as the relay would after a crash before its commit.
    const original = before.find(e => e.routing_key === orderCreated)!
    const broker = new Connection(amqpUrl)
    const publisher = broker.createPublisher({ confirm: true })
    await publisher.send({ exchange: EXCHANGES.orderEvents, routingKey: orderCreated, messageId: original.id, durable: true, headers: { 'x-request-id': 'e2e-redelivery' } }, original.payload)
    await publisher.close()
    await broker.close()

    await waitForLogLine(lines, /^order-processor.*e2e-redelivery.*already processed/)
    const after = await call(`${gateway}/orders/${created.id}`, { token })
    t.same(after.body, completed, 'same status, same updated_at')
    t.equal((await eventsOf()).length, before.length, 'no new status change was recorded')
  })
}
