import { createHash, randomUUID } from 'node:crypto'
import { sql, type Kysely, type QueryCreator, type RawBuilder, type Selectable } from 'kysely'
import { outboxHeaders } from '@orders/outbox'
import { DEFAULT_CURRENCY, EXCHANGES, orderTotal, ROUTING_KEYS, STATUS_CHANGED_ROUTING_KEY_PREFIX, type Order, type OrderCreatedV1, type OrderItem, type OrderStatus } from '@orders/contracts'
import { ORDERS_SCHEMA, type OrdersDatabase, type OrdersTable } from './database.ts'
import type { OrderCursor } from './cursor.ts'

/**
 * The order-service's statements: the writes, each an order change and its event in one
 * statement, and the reads of the routes. They are built from values only (every input a
 * parameter, none computed with inside), so the repository prepares the order path's once
 * (`prepareQuery`, platform), `pnpm bench` turns the create statement into its pgbench baseline,
 * and the plan guard (test/query-plans.test.ts) and `pnpm bench --only growth` EXPLAIN every one
 * of them: the same SQL either way.
 */

export interface CreateOrderInput {
  userId: string
  items: OrderItem[]
  /** ISO 4217, already checked (default: the contracts' DEFAULT_CURRENCY). */
  currency?: string
  /** The order's grace period: the processor takes it no earlier (ORDER_GRACE_PERIOD_MS; default 0). */
  gracePeriodMs?: number
  idempotencyKey?: string
  requestId: string
}

/** What the create statement stores: the order's row and its `order_created` event. */
export interface NewOrderValues extends Record<string, unknown> {
  id: string
  userId: string
  /** JSON */
  items: string
  currency: string
  total: number
  cancellableUntil: Date
  idempotencyKey: string | null
  requestHash: string | null
  createdAt: Date
  /** The event (JSON) and the outbox row's headers (JSON). */
  event: string
  headers: string
}
export const NEW_ORDER_VALUES = ['id', 'userId', 'items', 'currency', 'total', 'cancellableUntil', 'idempotencyKey', 'requestHash', 'createdAt', 'event', 'headers'] as const

/**
 * A new order, complete before it is stored (id and timestamps made here, in milliseconds like
 * the column), so its event can be written by the same statement: one round trip, one implicit
 * transaction, instead of BEGIN, two INSERTs and COMMIT.
 */
export function newOrder (input: CreateOrderInput): { order: Order, requestHash: string | null, values: NewOrderValues } {
  const currency = input.currency ?? DEFAULT_CURRENCY
  const requestHash = input.idempotencyKey ? hashRequest(input.items, currency) : null
  const now = new Date()
  const cancellableUntil = new Date(now.getTime() + (input.gracePeriodMs ?? 0))
  const order: Order = {
    id: randomUUID(),
    user_id: input.userId,
    status: 'new',
    items: input.items,
    currency,
    total: orderTotal(input.items),
    failure_reason: null,
    cancellable_until: cancellableUntil.toISOString(),
    created_at: now.toISOString(),
    updated_at: now.toISOString()
  }
  const event: OrderCreatedV1 = { type: 'order_created', version: 1, occurred_at: order.created_at, data: { order } }
  const values: NewOrderValues = {
    id: order.id,
    userId: order.user_id,
    items: JSON.stringify(order.items),
    currency,
    total: order.total,
    cancellableUntil,
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash,
    createdAt: now,
    event: JSON.stringify(event),
    headers: outboxHeaders(input.requestId)
  }
  return { order, requestHash, values }
}

/** Stores a new order (status `new`) and its `order_created` event; returns its id, or no row for a replayed Idempotency-Key. */
export function insertOrderStatement (db: Kysely<OrdersDatabase>, values: NewOrderValues) {
  return db.withSchema(ORDERS_SCHEMA)
    .with('inserted', db => db.insertInto('orders')
      .values({
        id: values.id,
        user_id: values.userId,
        status: 'new',
        items: values.items,
        currency: values.currency,
        total: values.total,
        cancellable_until: values.cancellableUntil,
        idempotency_key: values.idempotencyKey,
        request_hash: values.requestHash,
        created_at: values.createdAt,
        updated_at: values.createdAt
      })
      // A concurrent request with the same key waits on the first one's row, then inserts
      // nothing, and so writes no event either.
      .onConflict(oc => oc.columns(['user_id', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
      .returning('id'))
    .with('event', db => insertEventFor(db, 'inserted', { exchange: EXCHANGES.orderEvents, routingKey: sql`${ROUTING_KEYS.orderCreated}::text`, headers: values.headers }, sql`${values.event}::jsonb`))
    .selectFrom('inserted').select('id')
}

/**
 * The create statement for `input`, built but not run: `pnpm bench` compiles it into its pgbench
 * baseline, so the baseline cannot drift from what the repository runs.
 */
export function createOrderStatement (db: Kysely<OrdersDatabase>, input: CreateOrderInput) {
  const { order, requestHash, values } = newOrder(input)
  return { order, requestHash, statement: insertOrderStatement(db, values) }
}

/** One order by its id (GET /orders/{id}; the owner is checked on the row). */
export function selectOrderStatement (db: Kysely<OrdersDatabase>, values: { id: string }) {
  return db.withSchema(ORDERS_SCHEMA).selectFrom('orders').selectAll().where('id', '=', values.id)
}

/** The order a user stored under an Idempotency-Key (a replayed POST /orders). */
export function selectByIdempotencyKeyStatement (db: Kysely<OrdersDatabase>, values: { userId: string, idempotencyKey: string }) {
  return db.withSchema(ORDERS_SCHEMA).selectFrom('orders').selectAll()
    .where('user_id', '=', values.userId)
    .where('idempotency_key', '=', values.idempotencyKey)
}

export interface OrderPageQuery {
  userId: string
  /** Rows to fetch: the page's limit and one more, which tells whether another page follows. */
  rows: number
  status?: OrderStatus
  /** Continue after this order (keyset pagination). */
  after?: OrderCursor
}

/**
 * One page of a user's orders, newest first (GET /orders), walked along the index on
 * (user_id, created_at desc, id desc): its ORDER BY is that index's order, so PostgreSQL reads
 * the page's rows and stops, however many orders the user has.
 */
export function listOrdersStatement (db: Kysely<OrdersDatabase>, page: OrderPageQuery) {
  return db.withSchema(ORDERS_SCHEMA).selectFrom('orders').selectAll()
    .where('user_id', '=', page.userId)
    .$if(page.status !== undefined, q => q.where('status', '=', page.status!))
    // Keyset pagination: rows strictly older than the last one seen, so orders added
    // meanwhile (newer) never shift a page.
    .$if(page.after !== undefined, q => q.where(sql<boolean>`(created_at, id) < (${page.after!.createdAt}, ${page.after!.id})`))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.rows)
}

/** One kind of status change: its target, the status it is made from, and whether only the owner may. */
export interface StatusChangeShape { to: OrderStatus, from: OrderStatus, ownerOnly: boolean }

export interface StatusChangeValues extends Record<string, unknown> {
  id: string
  /** With `ownerOnly`: the user whose order it must be (otherwise unused: pass null). */
  ownerId: string | null
  failureReason: string | null
  changedAt: Date
  /** changedAt as toISOString() writes it: the event's `occurred_at`. */
  occurredAt: string
  headers: string
}

/**
 * A compare-and-set on the status (`UPDATE … WHERE id = $1 AND status = <from>`; for
 * `processing` also the end of the grace period, checked in the same WHERE) that inserts its
 * `order_status_changed` event in the same statement, built from the row it changed. Returns
 * the changed row, or none when the order was not in `from` (or not the owner's, or still in
 * its grace period).
 */
export function changeStatusStatement (db: Kysely<OrdersDatabase>, shape: StatusChangeShape, values: StatusChangeValues) {
  return db.withSchema(ORDERS_SCHEMA)
    .with('changed', db => db.updateTable('orders')
      .set({ status: shape.to, failure_reason: values.failureReason as Order['failure_reason'], updated_at: values.changedAt })
      .where('id', '=', values.id)
      .where('status', '=', shape.from)
      .$if(shape.ownerOnly, q => q.where('user_id', '=', values.ownerId!))
      // The grace period is the owner's: the processor defers the order until it ends, and
      // this refusal keeps "a cancel inside the window always wins" true even if it did not.
      .$if(shape.to === 'processing', q => q.where('cancellable_until', '<=', values.changedAt))
      .returningAll())
    // Routed by its owner (statusChangedRoutingKey): only the replicas where they watch get it.
    .with('event', db => insertEventFor(db, 'changed', { exchange: EXCHANGES.orderEvents, routingKey: sql`${STATUS_CHANGED_ROUTING_KEY_PREFIX}::text || ${sql.ref('user_id')}::text`, headers: values.headers }, statusChangedPayload(shape.from, values.occurredAt)))
    .selectFrom('changed').selectAll()
}

export const STATUS_CHANGE_VALUES = ['id', 'ownerId', 'failureReason', 'changedAt', 'occurredAt', 'headers'] as const

/**
 * The outbox INSERT of a CTE: one event row for each row of the CTE `source` (so none when
 * the change it announces did not happen), written by the same statement as the change.
 * `payload` and `routingKey` are evaluated per row of `source`, so they may be built from that row.
 */
// Typed loosely: kysely cannot express "any schema with a CTE named `source`" generically.
function insertEventFor (db: QueryCreator<any>, source: string, message: { exchange: string, routingKey: RawBuilder<unknown>, headers: string }, payload: RawBuilder<unknown>) {
  return db.insertInto('outbox')
    .expression(eb => eb.selectFrom(source).select([
      eb.val(message.exchange).as('exchange'),
      message.routingKey.as('routing_key'),
      payload.as('payload'),
      sql<unknown>`${message.headers}::jsonb`.as('headers')
    ]))
    .columns(['exchange', 'routing_key', 'payload', 'headers'])
}

/**
 * `order_status_changed` (OrderStatusChangedV1) of the changed row, built by PostgreSQL in the
 * statement that changes it: the order exactly as `toOrder` shows it (timestamps as
 * toISOString() writes them; the columns hold milliseconds).
 */
function statusChangedPayload (previousStatus: OrderStatus, occurredAt: string): RawBuilder<unknown> {
  const iso = (column: string) => sql`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
  const order = sql`jsonb_build_object(
    'id', ${sql.ref('id')}, 'user_id', ${sql.ref('user_id')}, 'status', ${sql.ref('status')}, 'items', ${sql.ref('items')},
    'currency', ${sql.ref('currency')}, 'total', ${sql.ref('total')}, 'failure_reason', ${sql.ref('failure_reason')},
    'cancellable_until', ${iso('cancellable_until')}, 'created_at', ${iso('created_at')}, 'updated_at', ${iso('updated_at')})`
  return sql`jsonb_build_object('type', 'order_status_changed', 'version', 1, 'occurred_at', ${occurredAt}::text,
    'data', jsonb_build_object('order', ${order}, 'previous_status', ${previousStatus}::text))`
}

/** An order row as the API and the events show it. */
export function toOrder (row: Selectable<OrdersTable>): Order {
  return {
    id: row.id,
    user_id: row.user_id,
    status: row.status,
    items: row.items,
    currency: row.currency,
    total: row.total,
    failure_reason: row.failure_reason,
    cancellable_until: row.cancellable_until.toISOString(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}

/**
 * Identifies a request body for Idempotency-Key replays (property order does not matter). The
 * currency counts only when it is not EUR, so the hashes stored before orders had a currency
 * (all EUR) still match a replay of the same request.
 */
function hashRequest (items: OrderItem[], currency: string): string {
  const lines = items.map(i => [i.sku, i.quantity, i.unit_price])
  return createHash('sha256').update(JSON.stringify(currency === 'EUR' ? lines : [currency, lines])).digest('hex')
}
