import t from 'tap'
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { buildOrderService, sampleItems } from './helper.ts'

t.test('when the outbox insert fails, no order row remains', async t => {
  const { app, db, issuer } = await buildOrderService(t)
  // Make every outbox insert fail inside the order transaction, as a real fault would.
  await sql`alter table orders.outbox add constraint reject_everything check (false) not valid`.execute(db)

  const res = await app.inject({
    method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(randomUUID())}` }, payload: { items: sampleItems }
  })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
  const orders = await db.withSchema('orders').selectFrom('orders').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  t.equal(Number(orders.n), 0, 'the order was rolled back with its event')

  await sql`alter table orders.outbox drop constraint reject_everything`.execute(db)
  const retried = await app.inject({
    method: 'POST', url: '/orders', headers: { authorization: `Bearer ${issuer.userToken(randomUUID())}` }, payload: { items: sampleItems }
  })
  t.equal(retried.statusCode, 201, 'and the service works again once the fault is gone')
})
