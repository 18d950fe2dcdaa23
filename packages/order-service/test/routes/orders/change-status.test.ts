import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Value } from '@sinclair/typebox/value'
import { OrderStatusChangedV1, statusChangedRoutingKey } from '@orders/contracts'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('changing an order status', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  const owner = randomUUID()
  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async () => (await app.inject({
    method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(owner)}` }, payload: { items: sampleItems }
  })).json()
  const patch = (id: string, payload: object, headers: Record<string, string> = service) =>
    app.inject({ method: 'PATCH', url: `/orders/${id}`, headers, payload })

  t.test('the processor moves an order new → processing → completed', async t => {
    const order = await place()
    const processing = await patch(order.id, { status: 'processing' })
    t.equal(processing.statusCode, 200)
    t.equal(processing.json().status, 'processing')
    const completed = await patch(order.id, { status: 'completed' })
    t.equal(completed.statusCode, 200)
    t.match(completed.json(), { status: 'completed', failure_reason: null })
    t.ok(Date.parse(completed.json().updated_at) >= Date.parse(order.updated_at))
  })

  t.test('a failed order carries its reason', async t => {
    const order = await place()
    await patch(order.id, { status: 'processing' })
    const failed = await patch(order.id, { status: 'failed', failure_reason: 'payment_declined' })
    t.equal(failed.statusCode, 200)
    t.match(failed.json(), { status: 'failed', failure_reason: 'payment_declined' })
  })

  t.test('every status change is an order_status_changed event in the outbox, routed by its owner', async t => {
    const order = await place()
    await patch(order.id, { status: 'processing' }, { ...service, 'x-request-id': 'req-patch-1' })
    const rows = await db.withSchema('orders').selectFrom('outbox').selectAll().where('routing_key', '=', statusChangedRoutingKey(owner)).execute()
    const row = rows.find(r => (r.payload as any).data.order.id === order.id)
    t.match(row, { exchange: 'orders.events', headers: { 'x-request-id': 'req-patch-1' } })
    t.match(row!.payload, { type: 'order_status_changed', version: 1, data: { previous_status: 'new', order: { status: 'processing' } } })
  })

  t.test('the event carries the order exactly as the answer shows it, and is a valid order_status_changed', async t => {
    const order = await place()
    await patch(order.id, { status: 'processing' })
    const answer = (await patch(order.id, { status: 'failed', failure_reason: 'payment_declined' })).json()
    const rows = await db.withSchema('orders').selectFrom('outbox').select('payload').where('routing_key', '=', statusChangedRoutingKey(owner)).execute()
    const event = rows.map(r => r.payload as any).find(p => p.data.order.id === order.id && p.data.order.status === 'failed')
    t.same(event.data.order, answer, 'the same order as PATCH answered')
    t.equal(event.occurred_at, answer.updated_at)
    t.equal(event.data.previous_status, 'processing')
    t.ok(Value.Check(OrderStatusChangedV1, event), 'valid against the contract')
  })

  const illegal: Array<[string, string[], object]> = [
    ['new → completed', [], { status: 'completed' }],
    ['new → failed', [], { status: 'failed', failure_reason: 'payment_declined' }],
    ['new → new', [], { status: 'new' }],
    ['processing → processing', ['processing'], { status: 'processing' }],
    ['processing → new', ['processing'], { status: 'new' }],
    ['completed → processing', ['processing', 'completed'], { status: 'processing' }],
    ['completed → failed', ['processing', 'completed'], { status: 'failed', failure_reason: 'payment_declined' }],
    ['failed → completed', ['processing', 'failed'], { status: 'completed' }]
  ]
  for (const [name, path, body] of illegal) {
    t.test(`${name} is 409 and changes nothing`, async t => {
      const order = await place()
      let current = order
      for (const status of path) current = (await patch(order.id, status === 'failed' ? { status, failure_reason: 'payment_declined' } : { status })).json()
      const res = await patch(order.id, body)
      t.equal(res.statusCode, 409)
      t.match(res.json(), { statusCode: 409, error: 'Conflict', message: String })
      const after = (await app.inject({ url: `/orders/${order.id}`, headers: service })).json()
      t.same(after, current)
    })
  }

  t.test('failed without a reason, or a reason without failed, is 400', async t => {
    const order = await place()
    await patch(order.id, { status: 'processing' })
    t.equal((await patch(order.id, { status: 'failed' })).statusCode, 400)
    t.equal((await patch(order.id, { status: 'completed', failure_reason: 'payment_declined' })).statusCode, 400)
    t.equal((await patch(order.id, { status: 'failed', failure_reason: 'bored' })).statusCode, 400)
    t.equal((await patch(order.id, { status: 'shipped' })).statusCode, 400)
    t.equal((await patch(order.id, { status: 'completed', extra: 1 })).statusCode, 400)
  })

  t.test('an unknown order is 404; a malformed id 400', async t => {
    t.equal((await patch(randomUUID(), { status: 'processing' })).statusCode, 404)
    t.equal((await patch('123', { status: 'processing' })).statusCode, 400)
  })

  t.test('no user token may change a status, not even the owner’s', async t => {
    const order = await place()
    const res = await patch(order.id, { status: 'processing' }, { authorization: `Bearer ${issuer.userToken(owner)}` })
    t.equal(res.statusCode, 403)
    t.equal((await patch(order.id, { status: 'processing' }, {})).statusCode, 401)
    const after = (await app.inject({ url: `/orders/${order.id}`, headers: service })).json()
    t.equal(after.status, 'new')
  })

  t.test('concurrent identical moves: exactly one wins, the others are 409', async t => {
    const order = await place()
    const results = await Promise.all(Array.from({ length: 6 }, async () => await patch(order.id, { status: 'processing' })))
    t.same(results.map(r => r.statusCode).sort(), [200, 409, 409, 409, 409, 409])
  })
})
