import { sql, type Kysely } from 'kysely'

// The order-processor's schema: one payment per order. The primary key on order_id is what
// makes "authorize the payment" happen once, however often order_created is delivered.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createSchema('processor').ifNotExists().execute()

  await db.schema.withSchema('processor').createTable('payments')
    // The order-service's order id; no foreign key across services.
    .addColumn('order_id', 'uuid', col => col.primaryKey())
    // Minor units, like the order's total.
    .addColumn('amount', 'bigint', col => col.notNull().check(sql`amount >= 0`))
    .addColumn('status', 'text', col => col.notNull().check(sql`status in ('authorized', 'declined')`))
    .addColumn('created_at', sql`timestamptz(3)`, col => col.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('processor').dropTable('payments').execute()
}
