import { sql, type Kysely } from 'kysely'
import { createOutboxTable, dropOutboxTable } from '@orders/outbox'

// The order-service's schema: orders and its outbox.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createSchema('orders').ifNotExists().execute()

  await db.schema.withSchema('orders').createTable('orders')
    .addColumn('id', 'uuid', col => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // The user-service's account id, from the token's `sub`; no foreign key across services.
    .addColumn('user_id', 'uuid', col => col.notNull())
    .addColumn('status', 'text', col => col.notNull().check(sql`status in ('new', 'processing', 'completed', 'failed')`))
    .addColumn('items', 'jsonb', col => col.notNull())
    .addColumn('total', 'bigint', col => col.notNull().check(sql`total >= 0`))
    .addColumn('failure_reason', 'text')
    .addColumn('idempotency_key', 'text')
    // sha256 of the request body, to tell a replay from a different order under the same key.
    .addColumn('request_hash', 'text')
    // Millisecond precision, like JavaScript's Date, so a pagination cursor built from a row's
    // created_at finds exactly that row again.
    .addColumn('created_at', sql`timestamptz(3)`, col => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, col => col.notNull().defaultTo(sql`now()`))
    .execute()
  // Keyset pagination of one user's orders, newest first.
  await db.schema.withSchema('orders').createIndex('orders_user_created_idx')
    .on('orders').columns(['user_id', 'created_at desc', 'id desc'])
    .execute()
  // An Idempotency-Key is scoped to its user.
  await db.schema.withSchema('orders').createIndex('orders_user_idempotency_key')
    .on('orders').columns(['user_id', 'idempotency_key']).unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute()

  await createOutboxTable(db, 'orders')
}

export async function down (db: Kysely<any>): Promise<void> {
  await dropOutboxTable(db, 'orders')
  await db.schema.withSchema('orders').dropTable('orders').execute()
}
