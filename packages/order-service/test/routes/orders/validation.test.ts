import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService } from '../../helper.ts'

t.test('a refused order names every field in error at once, in plain words', async t => {
  const { app, issuer } = await buildOrderService(t)
  const auth = { authorization: `Bearer ${issuer.userToken(randomUUID())}` }
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/orders', headers: auth, payload: payload as object })

  t.test('every broken rule of every row in one answer', async t => {
    const res = await post({
      items: [
        { sku: 'A B', quantity: -1, unit_price: 0 },
        { quantity: 1.5, unit_price: 100_000_001, gift: true }
      ],
      currency: 'eur'
    })
    t.equal(res.statusCode, 400)
    const byField = (a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field)
    t.same([...res.json().errors].sort(byField), [
      { field: 'currency', message: '"currency" must be an ISO 4217 currency code, like EUR or USD' },
      { field: 'items.0.quantity', message: '"quantity" must be at least 1' },
      { field: 'items.0.sku', message: '"sku" may contain letters, digits, \'.\', \'_\' and \'-\'' },
      { field: 'items.0.unit_price', message: '"unit_price" must be at least 1' },
      { field: 'items.1.gift', message: '"gift" is not part of the request' },
      { field: 'items.1.quantity', message: '"quantity" must be a whole number' },
      { field: 'items.1.sku', message: '"sku" is required' },
      { field: 'items.1.unit_price', message: '"unit_price" must be at most 100000000' }
    ])
    t.match(res.json().message, /items\[0\]: "sku" may contain letters, digits, '\.', '_' and '-'/)
    t.match(res.json().message, /items\[1\]: "sku" is required/)
    t.match(res.json().message, /"currency" must be an ISO 4217 currency code/)
    t.notMatch(res.json().message, /must match pattern|body\//, 'no validator jargon')
  })

  t.test('a string over its length is reported with the other errors, not alone', async t => {
    const res = await post({ items: [{ sku: 'S'.repeat(65), quantity: 0, unit_price: 1 }], currency: 'EURO' })
    t.same(res.json().errors.map((e: { field: string }) => e.field).sort(), ['currency', 'items.0.quantity', 'items.0.sku'])
  })

  t.test('an empty order says what is missing', async t => {
    const res = await post({})
    t.same(res.json().errors, [{ field: 'items', message: '"items" is required' }])
    t.equal(res.json().message, '"items" is required')
  })

  t.test('a body over the size bounds gets that one error, however many rows it has', async t => {
    const rows = Array.from({ length: 50_000 }, () => ({}))
    const started = Date.now()
    const res = await post({ items: rows })
    t.equal(res.statusCode, 400)
    t.same(res.json().errors, [{ field: 'items', message: '"items" must have at most 100 entries' }])
    t.ok(Date.now() - started < 2_000, 'answered without validating every row')
  })

  t.test('a status filter that is not a status lists the ones there are', async t => {
    const res = await app.inject({ url: '/orders?status=shipped', headers: auth })
    t.equal(res.statusCode, 400)
    t.same(res.json().errors, [{ field: 'status', message: '"status" must be one of "new", "processing", "completed", "failed", "cancelled"' }])
  })
})
