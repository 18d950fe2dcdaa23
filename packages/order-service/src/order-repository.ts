import type { Kysely, Selectable } from 'kysely'
import { outboxHeaders } from '@orders/outbox'
import { prepareQuery, type PreparedQuery } from '@orders/platform'
import { canTransition, predecessorOf, type ChangeOrderStatusBody, type Order, type OrderStatus } from '@orders/contracts'
import { ORDERS_SCHEMA, type OrdersDatabase, type OrdersTable } from './database.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { orderMetrics } from './order-metrics.ts'
import { GracePeriodNotOverError, IdempotencyKeyReusedError, IllegalTransitionError, OrderNotFoundError } from './order-errors.ts'
import {
  changeStatusStatement, insertOrderStatement, listOrdersStatement, newOrder, NEW_ORDER_VALUES, selectByIdempotencyKeyStatement,
  selectOrderStatement, STATUS_CHANGE_VALUES, toOrder,
  type CreateOrderInput, type NewOrderValues, type StatusChangeShape, type StatusChangeValues
} from './order-statements.ts'

export type { CreateOrderInput } from './order-statements.ts'

export interface OrderRepositoryOptions {
  db: Kysely<OrdersDatabase>
  /** Called after every commit that wrote outbox rows: wakes the in-process relay. */
  onOutboxCommitted: () => void
}

/**
 * Orders and their outbox events; every write is one statement with its event. The statements
 * of the order path are prepared once (built and compiled at construction, run with new values).
 */
export class OrderRepository {
  readonly #db: Kysely<OrdersDatabase>
  readonly #onOutboxCommitted: () => void
  readonly #insertOrder: PreparedQuery<NewOrderValues, { id: string }>
  readonly #selectOrder: PreparedQuery<{ id: string }, Selectable<OrdersTable>>
  readonly #changeStatus = new Map<string, PreparedQuery<StatusChangeValues, Selectable<OrdersTable>>>()

  constructor (options: OrderRepositoryOptions) {
    this.#db = options.db.withSchema(ORDERS_SCHEMA)
    this.#onOutboxCommitted = options.onOutboxCommitted
    this.#insertOrder = prepareQuery(NEW_ORDER_VALUES, values => insertOrderStatement(options.db, values))
    this.#selectOrder = prepareQuery(['id'], values => selectOrderStatement(options.db, values))
  }

  /**
   * Stores a new order with status `new` and its `order_created` event in one transaction
   * (a single statement).
   * With an Idempotency-Key, a replay of the same body returns the stored order
   * (`created: false`); the same key with another body throws IdempotencyKeyReusedError.
   */
  async createWithOutbox (input: CreateOrderInput): Promise<{ order: Order, created: boolean }> {
    const { order, requestHash, values } = newOrder(input)
    const { rows: [stored] } = await this.#insertOrder(this.#db, values)
    if (stored) {
      this.#onOutboxCommitted()
      orderMetrics.statusTransitions.inc({ from: 'none', to: 'new' })
      return { order, created: true }
    }

    // Nothing inserted: the Idempotency-Key was used before. Same body → the stored order.
    const existing = await selectByIdempotencyKeyStatement(this.#db, { userId: input.userId, idempotencyKey: input.idempotencyKey! }).executeTakeFirstOrThrow()
    if (existing.request_hash !== requestHash) throw new IdempotencyKeyReusedError()
    return { order: toOrder(existing), created: false }
  }

  /** With `ownerId`, only that user's order: someone else's is not found, exactly like an unknown one. */
  async getById (id: string, options: { ownerId?: string } = {}): Promise<Order> {
    const { rows: [row] } = await this.#selectOrder(this.#db, { id })
    if (!row || (options.ownerId !== undefined && row.user_id !== options.ownerId)) throw new OrderNotFoundError()
    return toOrder(row)
  }

  /**
   * The user's orders, newest first, of one status only if asked; `cursor` continues after the
   * last order of the previous page (with the same filter).
   */
  async listForUser (userId: string, options: { limit: number, cursor?: string, status?: OrderStatus }): Promise<{ orders: Order[], nextCursor: string | null }> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor)
    const rows = await listOrdersStatement(this.#db, { userId, rows: options.limit + 1, status: options.status, after }).execute()
    const page = rows.slice(0, options.limit)
    const last = page.at(-1)
    return {
      orders: page.map(toOrder),
      nextCursor: rows.length > options.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null
    }
  }

  /**
   * Moves an order along the state machine and records `order_status_changed`, atomically, in
   * one statement: a compare-and-set on the one status the target can be reached from
   * (`UPDATE … WHERE id = $1 AND status = <predecessor>`, and for `processing` the grace period's
   * end, checked in the same WHERE), with the event inserted by the same statement from the row
   * it changed. So the transition is decided by the row as it really is: of a cancel and the
   * processor racing on one order, one write matches and the other matches nothing. Only then
   * is the order read, once, to say why: 404, or 409 from the state machine or the grace period.
   * With `ownerId`, only that user's order. Throws OrderNotFoundError, IllegalTransitionError
   * or GracePeriodNotOverError.
   */
  async changeStatus (id: string, change: ChangeOrderStatusBody, requestId: string, options: { ownerId?: string } = {}): Promise<Order> {
    const from = predecessorOf(change.status)
    const ownerId = options.ownerId ?? null
    const headers = outboxHeaders(requestId)
    // Each lost race means someone else moved the order on; the state machine has no cycles,
    // so this ends within a few rounds with a success, a 409 or a 404.
    for (;;) {
      const now = new Date()
      if (from !== undefined) {
        const changeStatus = this.#changeStatusQuery({ to: change.status, from, ownerOnly: ownerId !== null })
        const { rows: [changed] } = await changeStatus(this.#db, { id, ownerId, failureReason: change.failure_reason ?? null, changedAt: now, occurredAt: now.toISOString(), headers })
        if (changed) {
          this.#onOutboxCommitted()
          orderMetrics.statusTransitions.inc({ from, to: change.status })
          return toOrder(changed)
        }
      }

      const { rows: [current] } = await this.#selectOrder(this.#db, { id })
      // Someone else's order is "not found", exactly like an unknown one.
      if (!current || (options.ownerId !== undefined && current.user_id !== options.ownerId)) throw new OrderNotFoundError()
      if (!canTransition(current.status, change.status)) throw new IllegalTransitionError(current.status, change.status)
      if (change.status === 'processing' && now < current.cancellable_until) throw new GracePeriodNotOverError(current.cancellable_until)
      // It reached the predecessor only after the write looked: try again.
    }
  }

  /** The prepared statement of one kind of status change (a handful of kinds exist). */
  #changeStatusQuery (shape: StatusChangeShape): PreparedQuery<StatusChangeValues, Selectable<OrdersTable>> {
    const key = `${shape.from}>${shape.to}${shape.ownerOnly ? ' (owner)' : ''}`
    let query = this.#changeStatus.get(key)
    if (query === undefined) {
      const names = STATUS_CHANGE_VALUES.filter(name => shape.ownerOnly || name !== 'ownerId')
      query = prepareQuery(names, values => changeStatusStatement(this.#db, shape, values))
      this.#changeStatus.set(key, query)
    }
    return query
  }
}
