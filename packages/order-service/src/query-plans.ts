import { CompiledQuery, sql, type Kysely } from 'kysely'
import { claimStatement, deletePublishedStatement, markPublishedStatement, OUTBOX_CLEANUP_BATCH, type OutboxDatabase } from '@orders/outbox'
import { ORDERS_SCHEMA, type OrdersDatabase } from './database.ts'
import type { OrderCursor } from './cursor.ts'
import { changeStatusStatement, insertOrderStatement, listOrdersStatement, newOrder, selectByIdempotencyKeyStatement, selectOrderStatement } from './order-statements.ts'

/**
 * Every query of the order path that runs per request or per relay batch, compiled from the
 * same builders the repository and the relay run, so that the plan guard
 * (test/query-plans.test.ts) and `pnpm bench --only growth` EXPLAIN exactly that SQL.
 */
export interface OrderPathQuery {
  /** Who runs it: a route, or the relay. */
  runBy: string
  name: string
  compiled: CompiledQuery
  /** It changes rows: EXPLAIN ANALYZE runs it inside a transaction that is rolled back. */
  writes: boolean
}

/** Rows of a seeded database the queries are aimed at: a user with many orders, one of them, a cursor into their history. */
export interface PlanSample {
  userId: string
  orderId: string
  /** The position of one of the user's orders: the second page of their list starts after it. */
  cursor: OrderCursor
  /** Some outbox rows, for the relay's mark. */
  outboxIds: string[]
}

// The relay's defaults (packages/outbox/src/relay.ts): the LIMIT is part of the plan.
const RELAY_BATCH = 200
const RELAY_LEASE_MS = 15_000
const RELAY_RETENTION_MS = 10 * 60_000

export function orderPathQueries (db: Kysely<OrdersDatabase>, sample: PlanSample): OrderPathQuery[] {
  const outbox = db.withSchema(ORDERS_SCHEMA) as unknown as Kysely<OutboxDatabase>
  const { values } = newOrder({ userId: sample.userId, items: [{ sku: 'PLAN', quantity: 1, unit_price: 100 }], idempotencyKey: 'plan-guard', requestId: 'plan-guard' })
  const now = new Date()
  const page = { userId: sample.userId, rows: 21 }
  return [
    { runBy: 'POST /orders', name: 'the order and its event, in one statement', compiled: insertOrderStatement(db, values).compile(), writes: true },
    { runBy: 'POST /orders', name: 'a replayed Idempotency-Key: the stored order', compiled: selectByIdempotencyKeyStatement(db, { userId: sample.userId, idempotencyKey: 'plan-guard' }).compile(), writes: false },
    { runBy: 'GET /orders/{id}', name: 'the order by id', compiled: selectOrderStatement(db, { id: sample.orderId }).compile(), writes: false },
    { runBy: 'GET /orders?limit=20', name: 'the first page', compiled: listOrdersStatement(db, page).compile(), writes: false },
    { runBy: 'GET /orders?limit=20&cursor=…', name: 'a later page', compiled: listOrdersStatement(db, { ...page, after: sample.cursor }).compile(), writes: false },
    { runBy: 'GET /orders?status=completed&limit=20', name: 'one status', compiled: listOrdersStatement(db, { ...page, status: 'completed' }).compile(), writes: false },
    {
      runBy: 'PATCH /orders/{id}',
      name: 'a status change and its event, in one statement',
      compiled: changeStatusStatement(db, { from: 'processing', to: 'completed', ownerOnly: false }, { id: sample.orderId, ownerId: null, failureReason: null, changedAt: now, occurredAt: now.toISOString(), headers: '{}' }).compile(),
      writes: true
    },
    { runBy: 'outbox relay', name: 'claim a batch', compiled: claimStatement(outbox, { leaseMs: RELAY_LEASE_MS, batchSize: RELAY_BATCH }).compile(), writes: true },
    { runBy: 'outbox relay', name: 'mark a batch published', compiled: markPublishedStatement(outbox, { ids: sample.outboxIds }).compile(), writes: true },
    { runBy: 'outbox relay', name: 'delete published rows past retention (one slice)', compiled: deletePublishedStatement(outbox, { retentionMs: RELAY_RETENTION_MS, batchSize: OUTBOX_CLEANUP_BATCH }).compile(), writes: true }
  ]
}

export interface QueryPlan {
  query: OrderPathQuery
  /** EXPLAIN (ANALYZE, BUFFERS) as text, one line per entry. */
  text: string[]
  /** What makes its cost grow with the table: a sequential scan of orders or outbox, a sort. Empty when none. */
  problems: string[]
  executionMs: number
}

interface PlanNode { 'Node Type': string, 'Relation Name'?: string, Plans?: PlanNode[] }

/**
 * EXPLAIN (ANALYZE, BUFFERS) of one query with its parameters (so the planner sees real values,
 * as it does for node-postgres's unnamed statements). A write runs in a transaction that is
 * rolled back, on one connection of `db`.
 */
export async function explainQuery (db: Kysely<any>, query: OrderPathQuery): Promise<QueryPlan> {
  return await db.connection().execute(async connection => {
    const explain = async (format: string) => await connection.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(`explain (analyze, buffers, format ${format}) ${query.compiled.sql}`, [...query.compiled.parameters]))
    if (query.writes) await sql`begin`.execute(connection)
    try {
      const { rows: [json] } = await explain('json')
      const { rows } = await explain('text')
      const [root] = json!['QUERY PLAN'] as Array<{ Plan: PlanNode, 'Execution Time': number }>
      return { query, text: rows.map(row => String(row['QUERY PLAN'])), problems: planProblems(root!.Plan), executionMs: root!['Execution Time'] }
    } finally {
      if (query.writes) await sql`rollback`.execute(connection)
    }
  })
}

const GROWING_TABLES = new Set(['orders', 'outbox'])

/** The nodes of a plan whose cost grows with the data rather than with the answer. */
export function planProblems (plan: PlanNode): string[] {
  const problems: string[] = []
  const visit = (node: PlanNode) => {
    if (node['Node Type'] === 'Seq Scan' && GROWING_TABLES.has(node['Relation Name'] ?? '')) problems.push(`Seq Scan on ${node['Relation Name']}`)
    // Every order path query reads rows in an index's order; a sort means it read them all first.
    if (node['Node Type'].endsWith('Sort')) problems.push(node['Node Type'])
    for (const child of node.Plans ?? []) visit(child)
  }
  visit(plan)
  return problems
}
