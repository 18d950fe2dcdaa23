import t from 'tap'
import { sql } from 'kysely'
import { createTestDatabase, seedOrderHistory } from '@orders/test-support'
import { explainQuery, orderPathQueries } from '../src/query-plans.ts'

// Enough rows that PostgreSQL's planner prefers an index where one fits (on a few hundred
// rows a sequential scan is cheaper, and right), small enough to seed in a few seconds.
const ORDERS = 40_000
const USERS = 400
const STALE_OUTBOX_ROWS = 20_000
const PENDING_OUTBOX_ROWS = 2_000

t.test('every query of the order path reads through an index, however many orders are stored', async t => {
  const database = await createTestDatabase()
  t.teardown(async () => { await database.drop() })
  const db = database.db
  const history = await seedOrderHistory(db, { orders: ORDERS, users: USERS, staleOutboxRows: STALE_OUTBOX_ROWS })
  // Rows still to publish, and rows published within the retention: what a running system holds.
  await sql`insert into orders.outbox (exchange, routing_key, payload, published_at)
    select 'order.events', 'order.created', '{}'::jsonb, case when n % 10 = 0 then null else now() end
    from generate_series(1, ${PENDING_OUTBOX_ROWS * 10}::int) n`.execute(db)
  await sql`analyze orders.outbox`.execute(db)

  const userId = history.userIds[0]!
  const { rows: orders } = await sql<{ id: string, created_at: Date }>`
    select id, created_at from orders.orders where user_id = ${userId} order by created_at desc, id desc`.execute(db)
  t.equal(orders.length, ORDERS / USERS, 'the user has a history of orders')
  const { rows: outbox } = await sql<{ id: string }>`select id from orders.outbox where published_at is null limit 200`.execute(db)
  const sample = { userId, orderId: orders[50]!.id, cursor: { createdAt: orders[19]!.created_at, id: orders[19]!.id }, outboxIds: outbox.map(row => row.id) }

  for (const query of orderPathQueries(db, sample)) {
    const plan = await explainQuery(db, query)
    t.same(plan.problems, [], `${query.runBy}, ${query.name}: no sequential scan, no sort`, { plan: plan.problems.length > 0 ? plan.text : undefined })
  }
})
