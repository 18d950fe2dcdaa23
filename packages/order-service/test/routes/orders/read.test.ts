import t from 'tap'
import { randomUUID } from 'node:crypto'
import { buildOrderService, sampleItems } from '../../helper.ts'

t.test('reading orders', async t => {
  const { app, issuer } = await buildOrderService(t)
  const alice = randomUUID()
  const bob = randomUUID()
  const as = (userId: string) => ({ authorization: `Bearer ${issuer.userToken(userId)}` })
  const place = async (userId: string, sku = 'SKU-1') =>
    (await app.inject({ method: 'POST', url: '/orders', headers: as(userId), payload: { items: [{ sku, quantity: 1, unit_price: 100 }] } })).json()

  const aliceOrder = await place(alice)

  t.test('my own order is 200', async t => {
    const res = await app.inject({ url: `/orders/${aliceOrder.id}`, headers: as(alice) })
    t.equal(res.statusCode, 200)
    t.same(res.json(), aliceOrder)
  })

  t.test("another user's order is 404, like an unknown one", async t => {
    const other = await app.inject({ url: `/orders/${aliceOrder.id}`, headers: as(bob) })
    const unknown = await app.inject({ url: `/orders/${randomUUID()}`, headers: as(bob) })
    t.equal(other.statusCode, 404)
    t.equal(unknown.statusCode, 404)
    t.same(other.json(), unknown.json())
  })

  t.test('a malformed id is 400', async t => {
    const res = await app.inject({ url: '/orders/not-a-uuid', headers: as(alice) })
    t.equal(res.statusCode, 400)
    t.match(res.json(), { message: String })
    // ajv-formats' uuid lets the URN form through; PostgreSQL's uuid type would refuse it (500).
    const urn = await app.inject({ url: `/orders/urn:uuid:${aliceOrder.id}`, headers: as(alice) })
    t.equal(urn.statusCode, 400)
  })

  t.test('without a token it is 401', async t => {
    t.equal((await app.inject({ url: `/orders/${aliceOrder.id}` })).statusCode, 401)
    t.equal((await app.inject({ url: '/orders' })).statusCode, 401)
  })

  t.test('a service that moves orders may read any order, but not list', async t => {
    const service = { authorization: `Bearer ${issuer.serviceToken()}` }
    t.equal((await app.inject({ url: `/orders/${aliceOrder.id}`, headers: service })).statusCode, 200)
    t.equal((await app.inject({ url: '/orders', headers: service })).statusCode, 403)
  })

  t.test("the list holds only the caller's orders", async t => {
    await place(bob)
    const res = await app.inject({ url: '/orders', headers: as(alice) })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.ok(body.orders.length > 0)
    t.ok(body.orders.every((o: { user_id: string }) => o.user_id === alice))
    t.equal(body.next_cursor, null)
  })

  t.test('pages go newest first and stay stable while orders are added', async t => {
    const carol = randomUUID()
    const placed = []
    for (let i = 0; i < 7; i++) placed.push((await place(carol, `C-${i}`)).id)
    const newestFirst = [...placed].reverse()

    const first = (await app.inject({ url: '/orders?limit=3', headers: as(carol) })).json()
    t.same(first.orders.map((o: { id: string }) => o.id), newestFirst.slice(0, 3))
    t.type(first.next_cursor, 'string')

    await place(carol, 'C-late') // a newer order must not shift the following pages

    const second = (await app.inject({ url: `/orders?limit=3&cursor=${first.next_cursor}`, headers: as(carol) })).json()
    t.same(second.orders.map((o: { id: string }) => o.id), newestFirst.slice(3, 6))
    const third = (await app.inject({ url: `/orders?limit=3&cursor=${second.next_cursor}`, headers: as(carol) })).json()
    t.same(third.orders.map((o: { id: string }) => o.id), newestFirst.slice(6))
    t.equal(third.next_cursor, null)
  })

  t.test('the default page size is 20', async t => {
    const dave = randomUUID()
    for (let i = 0; i < 21; i++) await place(dave)
    const page = (await app.inject({ url: '/orders', headers: as(dave) })).json()
    t.equal(page.orders.length, 20)
    t.type(page.next_cursor, 'string')
  })

  t.test("a cursor does not reveal another user's orders", async t => {
    const page = (await app.inject({ url: '/orders?limit=1', headers: as(alice) })).json()
    const res = await app.inject({ url: `/orders?cursor=${page.next_cursor ?? 'x'}`, headers: as(bob) })
    if (res.statusCode === 200) t.ok(res.json().orders.every((o: { user_id: string }) => o.user_id === bob))
    else t.equal(res.statusCode, 400)
  })

  for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=garbage', 'cursor=' + Buffer.from('["x","y"]').toString('base64url'), 'unknown=1']) {
    t.test(`?${query} is 400`, async t => {
      const res = await app.inject({ url: `/orders?${query}`, headers: as(alice) })
      t.equal(res.statusCode, 400)
      t.match(res.json(), { statusCode: 400, message: String })
    })
  }
})

t.test('Idempotency-Key', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  const alice = randomUUID()
  const as = (userId: string, key?: string) => ({ authorization: `Bearer ${issuer.userToken(userId)}`, ...(key ? { 'idempotency-key': key } : {}) })
  const count = async () => Number((await db.withSchema('orders').selectFrom('orders').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  const outboxCount = async () => Number((await db.withSchema('orders').selectFrom('outbox').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

  t.test('the same key and body return the same order and create nothing new', async t => {
    const first = await app.inject({ method: 'POST', url: '/orders', headers: as(alice, 'k-1'), payload: { items: sampleItems } })
    const before = [await count(), await outboxCount()]
    const again = await app.inject({ method: 'POST', url: '/orders', headers: as(alice, 'k-1'), payload: { items: sampleItems } })
    t.equal(first.statusCode, 201)
    t.equal(again.statusCode, 200)
    t.same(again.json(), first.json())
    t.same([await count(), await outboxCount()], before)
  })

  t.test('the same key with another body is 409 and changes nothing', async t => {
    const before = await count()
    const res = await app.inject({ method: 'POST', url: '/orders', headers: as(alice, 'k-1'), payload: { items: [{ sku: 'OTHER', quantity: 1, unit_price: 1 }] } })
    t.equal(res.statusCode, 409)
    t.match(res.json(), { statusCode: 409, message: /Idempotency-Key/ })
    t.equal(await count(), before)
  })

  t.test('keys are scoped to the user', async t => {
    const bob = randomUUID()
    const res = await app.inject({ method: 'POST', url: '/orders', headers: as(bob, 'k-1'), payload: { items: sampleItems } })
    t.equal(res.statusCode, 201)
    t.equal(res.json().user_id, bob)
  })

  t.test('concurrent requests with one key create one order', async t => {
    const results = await Promise.all(Array.from({ length: 8 }, async () =>
      await app.inject({ method: 'POST', url: '/orders', headers: as(alice, 'k-concurrent'), payload: { items: sampleItems } })))
    t.same(results.map(r => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 201])
    t.equal(new Set(results.map(r => r.json().id)).size, 1)
  })

  for (const [name, key] of [['an empty key', ''], ['a 256-character key', 'k'.repeat(256)]]) {
    t.test(`${name} is 400`, async t => {
      const res = await app.inject({ method: 'POST', url: '/orders', headers: { ...as(alice), 'idempotency-key': key! }, payload: { items: sampleItems } })
      t.equal(res.statusCode, 400)
    })
  }
})
