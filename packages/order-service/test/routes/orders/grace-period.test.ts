import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('the grace period of a new order', async t => {
  const { app, issuer } = await buildOrderService(t, { gracePeriodMs: 60_000 })
  const asOwner = { authorization: `Bearer ${issuer.userToken(randomUUID())}` }
  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async () => (await app.inject({ method: 'POST', url: '/orders', headers: asOwner, payload: { items: sampleItems } })).json()

  t.test('an order says until when it can surely be cancelled', async t => {
    const order = await place()
    t.equal(Date.parse(order.cancellable_until) - Date.parse(order.created_at), 60_000)
  })

  t.test('the processor may not take it before then: 409, and the order stays new', async t => {
    const order = await place()
    const res = await app.inject({ method: 'PATCH', url: `/orders/${order.id}`, headers: service, payload: { status: 'processing' } })
    t.equal(res.statusCode, 409)
    t.match(res.json().message, /may still be cancelled until/)
    t.equal((await app.inject({ url: `/orders/${order.id}`, headers: asOwner })).json().status, 'new')
  })

  t.test('a cancel inside the window wins', async t => {
    const order = await place()
    const res = await app.inject({ method: 'POST', url: `/orders/${order.id}/cancel`, headers: asOwner })
    t.equal(res.statusCode, 200)
    t.equal(res.json().status, 'cancelled')
  })
})
