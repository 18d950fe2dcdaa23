import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('placing an order', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  const userId = randomUUID()
  const auth = { authorization: `Bearer ${issuer.userToken(userId)}` }
  const countOrders = async () => Number((await db.withSchema('orders').selectFrom('orders').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

  t.test('answers 201 with the stored order, status new and the total computed by the server', async t => {
    const res = await app.inject({ method: 'POST', url: '/orders', headers: auth, payload: { items: sampleItems } })
    t.equal(res.statusCode, 201)
    const order = res.json()
    t.match(order, { user_id: userId, status: 'new', items: sampleItems, currency: 'EUR', total: 2 * 1250 + 99, failure_reason: null })
    t.match(order.id, /^[0-9a-f-]{36}$/)
    t.ok(Date.parse(order.created_at) && Date.parse(order.updated_at))
    t.equal(order.cancellable_until, order.created_at, 'no grace period unless configured')
    t.same(Object.keys(order).sort(), ['cancellable_until', 'created_at', 'currency', 'failure_reason', 'id', 'items', 'status', 'total', 'updated_at', 'user_id'])
  })

  t.test('writes the order_created event to the outbox in the same transaction', async t => {
    const res = await app.inject({ method: 'POST', url: '/orders', headers: { ...auth, 'x-request-id': 'req-outbox-1' }, payload: { items: sampleItems } })
    const order = res.json()
    const rows = await db.withSchema('orders').selectFrom('outbox').selectAll().where(eb => eb(eb.ref('payload', '->>').key('type' as never), '=', 'order_created')).execute()
    const row = rows.find(r => (r.payload as any).data.order.id === order.id)
    t.ok(row, 'one outbox row for the new order')
    t.match(row, { exchange: 'orders.events', routing_key: 'order_created', headers: { 'x-request-id': 'req-outbox-1' }, published_at: null })
    t.match(row!.payload, { type: 'order_created', version: 1, data: { order: { id: order.id, status: 'new', total: order.total } } })
  })

  const invalidBodies: Array<[string, unknown]> = [
    ['no items', { items: [] }],
    ['items missing', {}],
    ['101 items', { items: Array.from({ length: 101 }, () => ({ sku: 'A', quantity: 1, unit_price: 1 })) }],
    ['an empty sku', { items: [{ sku: '', quantity: 1, unit_price: 1 }] }],
    ['a 65-character sku', { items: [{ sku: 'A'.repeat(65), quantity: 1, unit_price: 1 }] }],
    ['a sku with a space', { items: [{ sku: 'A B', quantity: 1, unit_price: 1 }] }],
    ['quantity 0', { items: [{ sku: 'A', quantity: 0, unit_price: 1 }] }],
    ['quantity 1001', { items: [{ sku: 'A', quantity: 1001, unit_price: 1 }] }],
    ['a fractional quantity', { items: [{ sku: 'A', quantity: 1.5, unit_price: 1 }] }],
    ['quantity as a string', { items: [{ sku: 'A', quantity: '2', unit_price: 1 }] }],
    ['a negative unit_price', { items: [{ sku: 'A', quantity: 1, unit_price: -1 }] }],
    ['a unit_price of 0', { items: [{ sku: 'A', quantity: 1, unit_price: 0 }] }],
    ['unit_price over 100000000', { items: [{ sku: 'A', quantity: 1, unit_price: 100_000_001 }] }],
    ['an unknown property on the order', { items: [{ sku: 'A', quantity: 1, unit_price: 1 }], total: 0 }],
    ['an unknown property on an item', { items: [{ sku: 'A', quantity: 1, unit_price: 1, discount: 5 }] }],
    ['a missing unit_price', { items: [{ sku: 'A', quantity: 1 }] }]
  ]
  for (const [name, payload] of invalidBodies) {
    t.test(`rejects ${name} with 400 and stores nothing`, async t => {
      const before = await countOrders()
      const res = await app.inject({ method: 'POST', url: '/orders', headers: auth, payload: payload as object })
      t.equal(res.statusCode, 400)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: String })
      t.equal(await countOrders(), before)
    })
  }

  t.test('accepts the bounds themselves', async t => {
    const res = await app.inject({ method: 'POST', url: '/orders', headers: auth, payload: { items: [{ sku: 'A'.repeat(64), quantity: 1000, unit_price: 100_000_000 }] } })
    t.equal(res.statusCode, 201)
    t.equal(res.json().total, 100_000_000_000)
  })

  t.test('rejects malformed JSON with 400', async t => {
    const res = await app.inject({ method: 'POST', url: '/orders', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"items": [' })
    t.equal(res.statusCode, 400)
    t.type(res.json().message, 'string')
  })

  t.test('rejects a body over 1 MiB with 413', async t => {
    const huge = JSON.stringify({ items: [{ sku: 'A', quantity: 1, unit_price: 1 }], pad: 'x'.repeat(1024 * 1024) })
    const res = await app.inject({ method: 'POST', url: '/orders', headers: { ...auth, 'content-type': 'application/json' }, payload: huge })
    t.equal(res.statusCode, 413)
    t.type(res.json().message, 'string')
  })
})

t.test('who may place an order', async t => {
  const { app, issuer } = await buildOrderService(t)
  const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/orders', headers, payload: { items: sampleItems } })
  const now = Math.floor(Date.now() / 1000)

  const cases: Array<[string, Record<string, string>, number]> = [
    ['no token → 401', {}, 401],
    ['a malformed token → 401', { authorization: 'Bearer not-a-jwt' }, 401],
    ['a token signed by an unknown key → 401', { authorization: `Bearer ${issuer.userToken(undefined, { key: issuer.otherKey() })}` }, 401],
    ['an expired token → 401', { authorization: `Bearer ${issuer.userToken(undefined, { claims: { iat: now - 2000, exp: now - 1000 } })}` }, 401],
    ['a token for another audience → 401', { authorization: `Bearer ${issuer.userToken(undefined, { claims: { aud: 'elsewhere' } })}` }, 401],
    ['a token from another issuer → 401', { authorization: `Bearer ${issuer.userToken(undefined, { claims: { iss: 'someone-else' } })}` }, 401],
    ['a token without sub → 401', { authorization: `Bearer ${issuer.userToken(undefined, { claims: { sub: undefined } })}` }, 401],
    ['a user token whose sub is not a uuid → 401', { authorization: `Bearer ${issuer.userToken('not-a-uuid')}` }, 401],
    ['an unsigned (alg none) token → 401', { authorization: `Bearer ${unsigned({ sub: 'x', scope: 'orders' })}` }, 401],
    ['a service token → 403', { authorization: `Bearer ${issuer.serviceToken()}` }, 403]
  ]
  for (const [name, headers, status] of cases) {
    t.test(name, async t => {
      const res = await post(headers)
      t.equal(res.statusCode, status)
      t.match(res.json(), { statusCode: status, message: String })
    })
  }
})

function unsigned (claims: object): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url')
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: 'urn:order-platform:user-service', aud: 'order-platform', exp: Math.floor(Date.now() / 1000) + 60, ...claims })}.`
}

t.test('a 401 says in plain words what is wrong', async t => {
  const { app, issuer } = await buildOrderService(t)
  const now = Math.floor(Date.now() / 1000)
  const missing = await app.inject({ method: 'POST', url: '/orders', payload: { items: sampleItems } })
  t.equal(missing.json().message, 'missing or invalid access token')
  const garbage = await app.inject({ method: 'POST', url: '/orders', headers: { authorization: 'Bearer not-a-jwt' }, payload: { items: sampleItems } })
  t.equal(garbage.json().message, 'missing or invalid access token')
  const expired = await app.inject({
    method: 'POST', url: '/orders', payload: { items: sampleItems },
    headers: { authorization: `Bearer ${issuer.userToken(undefined, { claims: { iat: now - 2000, exp: now - 1000 } })}` }
  })
  t.equal(expired.json().message, 'missing or invalid access token: it has expired')
})
