import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'

export interface OrderHistory {
  /** Every order owner: the given users first, then made-up ones. */
  userIds: string[]
  orders: number
  staleOutboxRows: number
  recentOutboxRows: number
  seconds: number
}

/**
 * A database that has been in use for a year, written by SQL in a few statements
 * (`generate_series`), not through the API: `orders` rows spread evenly over `users` owners
 * (the `knownUsers` among them, the rest made up; the order-service keeps no table of users and
 * no foreign key to the user-service's), oldest first, so each owner's orders lie all over the
 * table. Every order is final, as a year-old order is: 96 % completed, 2 % failed (payment
 * declined), 2 % cancelled; each has an Idempotency-Key, so the unique index on them is as large
 * as the table; its timestamps follow its status. Plus outbox rows: `recentOutboxRows` published
 * a minute ago (a busy system's retention window: kept, nine more minutes at the default 10) and
 * `staleOutboxRows` published two hours ago (past any retention: the relays must delete them).
 * Ends with VACUUM ANALYZE, as autovacuum would have left such tables.
 */
export async function seedOrderHistory (db: Kysely<any>, options: { orders: number, users: number, knownUsers?: string[], staleOutboxRows?: number, recentOutboxRows?: number }): Promise<OrderHistory> {
  const started = Date.now()
  const known = options.knownUsers ?? []
  const userIds = [...known, ...Array.from({ length: Math.max(0, options.users - known.length) }, () => randomUUID())]
  const staleOutboxRows = options.staleOutboxRows ?? 0
  const items = JSON.stringify([{ sku: 'SEED-BOOK', quantity: 3, unit_price: 499 }, { sku: 'SEED-PEN', quantity: 1, unit_price: 100 }])
  const recentOutboxRows = options.recentOutboxRows ?? 0
  await sql`insert into orders.outbox (exchange, routing_key, payload, headers, created_at, published_at)
    select 'order.events', 'order.status_changed', jsonb_build_object('type', 'order_status_changed', 'seed', n), '{}'::jsonb, t.at, t.at
    from generate_series(1, ${staleOutboxRows + recentOutboxRows}::int) n,
      lateral (select now() - case when n <= ${staleOutboxRows}::int then interval '2 hours' else interval '1 minute' end as at) t`.execute(db)
  // n runs oldest to newest over the last 365 days; the owner is n modulo the users, and each
  // owner's successive orders take the statuses in turn.
  await sql`insert into orders.orders (id, user_id, status, items, currency, total, failure_reason, idempotency_key, request_hash,
      cancellable_until, created_at, updated_at)
    select gen_random_uuid(), (${userIds}::uuid[])[1 + n % ${userIds.length}::int], o.status, ${items}::jsonb, 'EUR', 1597,
      case when o.status = 'failed' then 'payment_declined' end, 'seed-' || n, md5(n::text),
      o.created_at, o.created_at, o.created_at + case when o.status = 'cancelled' then interval '2 seconds' else interval '40 milliseconds' end
    from generate_series(1, ${options.orders}::int) n,
      lateral (select case (n / ${userIds.length}::int) % 50 when 0 then 'failed' when 1 then 'cancelled' else 'completed' end as status,
        date_trunc('milliseconds', now() - interval '365 days' * (1 - n::float8 / ${options.orders}::int)) as created_at) o`.execute(db)
  await sql`vacuum analyze orders.orders, orders.outbox`.execute(db)
  return { userIds, orders: options.orders, staleOutboxRows, recentOutboxRows, seconds: (Date.now() - started) / 1000 }
}
