import t from 'tap'
import { randomUUID } from 'node:crypto'
import { statusChangedRoutingKey } from '@orders/contracts'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('cancelling an order', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  const owner = randomUUID()
  const asOwner = { authorization: `Bearer ${issuer.userToken(owner)}` }
  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async () => (await app.inject({ method: 'POST', url: '/orders', headers: asOwner, payload: { items: sampleItems } })).json()
  const cancel = (id: string, headers: Record<string, string> = asOwner) => app.inject({ method: 'POST', url: `/orders/${id}/cancel`, headers })
  const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/orders/${id}`, headers: service, payload })

  t.test('the owner cancels a new order: 200, status cancelled, and an event', async t => {
    const order = await place()
    const res = await cancel(order.id)
    t.equal(res.statusCode, 200)
    t.match(res.json(), { id: order.id, status: 'cancelled', failure_reason: null })
    const events = await db.withSchema('orders').selectFrom('outbox').select('payload').where('routing_key', '=', statusChangedRoutingKey(owner)).execute()
    t.ok(events.some(e => (e.payload as any).data.order.id === order.id && (e.payload as any).data.order.status === 'cancelled'))
  })

  t.test('a cancelled order cannot be cancelled again, nor processed', async t => {
    const order = await place()
    await cancel(order.id)
    t.equal((await cancel(order.id)).statusCode, 409)
    const processing = await patch(order.id, { status: 'processing' })
    t.equal(processing.statusCode, 409, 'the processor skips it')
  })

  t.test('once the processor has taken it, it is 409', async t => {
    const order = await place()
    await patch(order.id, { status: 'processing' })
    const res = await cancel(order.id)
    t.equal(res.statusCode, 409)
    t.match(res.json(), { statusCode: 409, message: /processing/ })
    await patch(order.id, { status: 'completed' })
    t.equal((await cancel(order.id)).statusCode, 409)
  })

  t.test("another user's order is 404 and stays as it is", async t => {
    const order = await place()
    const res = await cancel(order.id, { authorization: `Bearer ${issuer.userToken(randomUUID())}` })
    t.equal(res.statusCode, 404)
    t.equal((await app.inject({ url: `/orders/${order.id}`, headers: asOwner })).json().status, 'new')
  })

  t.test('unknown 404, malformed 400, no token 401, service token 403', async t => {
    const order = await place()
    t.equal((await cancel(randomUUID())).statusCode, 404)
    t.equal((await cancel('nope')).statusCode, 400)
    t.equal((await cancel(order.id, {})).statusCode, 401)
    t.equal((await cancel(order.id, service)).statusCode, 403)
  })

  t.test('a cancel racing the processor: the order ends cancelled or processed, never both', async t => {
    for (let round = 0; round < 10; round++) {
      const order = await place()
      const [cancelled, taken] = await Promise.all([cancel(order.id), patch(order.id, { status: 'processing' })])
      t.same([cancelled.statusCode, taken.statusCode].sort(), [200, 409], `round ${round}: exactly one wins`)
      const final = (await app.inject({ url: `/orders/${order.id}`, headers: asOwner })).json()
      t.equal(final.status, cancelled.statusCode === 200 ? 'cancelled' : 'processing')
    }
  })
})
