import t from 'tap'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { CompiledQuery, sql } from 'kysely'
import { createOrderStatement } from '@orders/order-service/order-statements'
import { createTestDatabase } from '@orders/test-support'
import { pgbenchScript } from '../src/pgbench-script.ts'
import { findPgbench } from '../src/pgbench.ts'
import { ORDER_ITEMS } from '../src/accounts.ts'

t.test('each parameter becomes a pgbench variable, an inline expression or NULL', async t => {
  const when = new Date('2030-01-02T03:04:05.678Z')
  const query = CompiledQuery.raw('insert into t (id, n, doc, at, missing) values ($1, $2, $3::jsonb, $4, $5) returning $2', ['the-id', 7, '{"a": 1}', when, null])
  const { script, variables } = pgbenchScript(query, new Map([['the-id', 'gen_random_uuid()']]))
  t.equal(script, 'insert into t (id, n, doc, at, missing) values (gen_random_uuid(), :p2, :p3::jsonb, :p4, NULL) returning :p2;\n')
  t.same(variables, { p2: '7', p3: '{"a": 1}', p4: '2030-01-02T03:04:05.678Z' })
})

t.test('$10 is the tenth parameter, not the first followed by 0', async t => {
  const parameters = Array.from({ length: 10 }, (_, i) => `v${i + 1}`)
  const { script, variables } = pgbenchScript(CompiledQuery.raw('select $1, $10', parameters))
  t.equal(script, 'select :p1, :p10;\n')
  t.same(variables, { p1: 'v1', p10: 'v10' })
})

t.test('a placeholder without a parameter is refused', async t => {
  t.throws(() => pgbenchScript(CompiledQuery.raw('select $2', ['only one'])), /\$2 has no parameter/)
})

t.test("pgbench runs the order-service's own create-order statement: an order and its event per transaction", async t => {
  const database = await createTestDatabase()
  t.teardown(async () => { await database.drop() })
  const { order, statement } = createOrderStatement(database.db, { userId: randomUUID(), items: ORDER_ITEMS, requestId: 'pgbench-test' })
  const { script, variables } = pgbenchScript(statement.compile(), new Map([[order.id, 'gen_random_uuid()']]))
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbench-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'create-order.sql'), script)

  await promisify(execFile)(findPgbench(), [
    '-n', '-M', 'prepared', '-c', '1', '-t', '3', '-f', path.join(dir, 'create-order.sql'),
    ...Object.entries(variables).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
    database.url
  ], { timeout: 30_000 })

  const orders = (await sql<{ id: string, user_id: string, total: number, status: string }>`select id, user_id, total, status from orders.orders`.execute(database.db)).rows
  t.equal(orders.length, 3, 'three transactions, three orders')
  t.equal(new Set(orders.map(o => o.id)).size, 3, 'each with an id of its own')
  t.same(orders.map(o => [o.user_id, Number(o.total), o.status]), Array(3).fill([order.user_id, order.total, 'new']))
  const events = (await sql<{ routing_key: string, payload: any, headers: any }>`select routing_key, payload, headers from orders.outbox`.execute(database.db)).rows
  t.equal(events.length, 3, 'and an outbox row for each')
  t.same(events[0]!.payload.data.order.items, ORDER_ITEMS)
  t.same([events[0]!.routing_key, events[0]!.headers], ['order_created', { 'x-request-id': 'pgbench-test' }])
})
