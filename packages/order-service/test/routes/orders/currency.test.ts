import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('an order carries an ISO 4217 currency', async t => {
  const { app, db, issuer } = await buildOrderService(t, { defaultCurrency: 'USD' })
  const auth = { authorization: `Bearer ${issuer.userToken(randomUUID())}` }
  const post = (payload: object, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/orders', headers: { ...auth, ...headers }, payload })

  t.test('a request without one gets the service default, and existing clients keep working', async t => {
    const res = await post({ items: sampleItems })
    t.equal(res.statusCode, 201)
    t.equal(res.json().currency, 'USD')
  })

  t.test('the one asked for is stored, answered, and in the order_created event', async t => {
    const created = (await post({ items: sampleItems, currency: 'JPY' })).json()
    t.equal(created.currency, 'JPY')
    const read = await app.inject({ url: `/orders/${created.id}`, headers: auth })
    t.equal(read.json().currency, 'JPY')
    const row = await db.withSchema('orders').selectFrom('outbox').select('payload')
      .where('routing_key', '=', 'order_created').execute()
    t.ok(row.some(r => (r.payload as any).data.order.id === created.id && (r.payload as any).data.order.currency === 'JPY'))
  })

  for (const [name, currency] of [['lower case', 'eur'], ['not a code', 'EURO'], ['no such code', 'XYZ'], ['a number', 978]] as const) {
    t.test(`a currency that is ${name} is 400, in words`, async t => {
      const res = await post({ items: sampleItems, currency })
      t.equal(res.statusCode, 400)
      t.match(res.json().errors, [{ field: 'currency', message: /^"currency" must (be an ISO 4217 currency code, like EUR or USD|have at most 3 characters|be a string)$/ }])
    })
  }

  t.test('the same Idempotency-Key with another currency is a different request: 409', async t => {
    t.equal((await post({ items: sampleItems, currency: 'GBP' }, { 'idempotency-key': 'money-1' })).statusCode, 201)
    t.equal((await post({ items: sampleItems, currency: 'GBP' }, { 'idempotency-key': 'money-1' })).statusCode, 200)
    t.equal((await post({ items: sampleItems, currency: 'CHF' }, { 'idempotency-key': 'money-1' })).statusCode, 409)
  })
})
