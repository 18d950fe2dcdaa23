import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('the list filtered by status', async t => {
  const { app, issuer } = await buildOrderService(t)
  const alice = randomUUID()
  const asAlice = { authorization: `Bearer ${issuer.userToken(alice)}` }
  const service = { authorization: `Bearer ${issuer.serviceToken()}` }
  const place = async () => (await app.inject({ method: 'POST', url: '/orders', headers: asAlice, payload: { items: sampleItems } })).json()
  const list = async (query: string) => (await app.inject({ url: `/orders?${query}`, headers: asAlice })).json()

  const cancelled = [await place(), await place(), await place()]
  for (const order of cancelled) await app.inject({ method: 'POST', url: `/orders/${order.id}/cancel`, headers: asAlice })
  const processing = await place()
  await app.inject({ method: 'PATCH', url: `/orders/${processing.id}`, headers: service, payload: { status: 'processing' } })
  const fresh = await place()
  // Someone else's order in the same status stays out of Alice's list.
  await app.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(randomUUID())}` }, payload: { items: sampleItems } })

  t.test('?status= answers only the orders in that status, newest first', async t => {
    t.same((await list('status=new')).orders.map((o: { id: string }) => o.id), [fresh.id])
    t.same((await list('status=processing')).orders.map((o: { id: string }) => o.id), [processing.id])
    t.same((await list('status=cancelled')).orders.map((o: { id: string }) => o.id), cancelled.map(o => o.id).reverse())
    t.same((await list('status=completed')).orders, [])
  })

  t.test('without it, every status', async t => {
    t.equal((await list('limit=100')).orders.length, 5)
  })

  t.test('the cursor of a filtered page continues the filter', async t => {
    const first = await list('status=cancelled&limit=2')
    t.equal(first.orders.length, 2)
    const second = await list(`status=cancelled&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`)
    t.same(second.orders.map((o: { id: string }) => o.id), [cancelled[0].id])
    t.equal(second.next_cursor, null)
  })

  t.test('the filter is documented in the OpenAPI', async t => {
    const spec = (await app.inject({ url: '/docs/json' })).json()
    const status = spec.paths['/orders'].get.parameters.find((p: { name: string }) => p.name === 'status')
    t.match(status, { in: 'query', required: false, description: /status/ })
    t.match(JSON.stringify(status.schema), /cancelled/)
  })
})
