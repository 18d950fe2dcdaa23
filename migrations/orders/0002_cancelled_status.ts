import { sql, type Kysely } from 'kysely'

// Orders can be cancelled by their owner while still new (issue 4).
export async function up (db: Kysely<any>): Promise<void> {
  await sql`alter table orders.orders drop constraint orders_status_check`.execute(db)
  await sql`alter table orders.orders add constraint orders_status_check
    check (status in ('new', 'processing', 'completed', 'failed', 'cancelled'))`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  // A cancelled order has no older status to return to; `down` refuses rather than invent one.
  await sql`alter table orders.orders drop constraint orders_status_check`.execute(db)
  await sql`alter table orders.orders add constraint orders_status_check
    check (status in ('new', 'processing', 'completed', 'failed'))`.execute(db)
}
