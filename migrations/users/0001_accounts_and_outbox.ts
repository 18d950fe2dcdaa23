import { sql, type Kysely } from 'kysely'
import { createOutboxTable, dropOutboxTable } from '@orders/outbox'

// The user-service's schema: accounts, its token-signing keys, and its outbox.
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createSchema('users').ifNotExists().execute()

  await db.schema.withSchema('users').createTable('accounts')
    .addColumn('id', 'uuid', col => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', col => col.notNull())
    .addColumn('password_hash', 'text', col => col.notNull())
    .addColumn('created_at', 'timestamptz', col => col.notNull().defaultTo(sql`now()`))
    .execute()
  // Emails are unique regardless of case; the index also serves the login lookup.
  await db.schema.withSchema('users').createIndex('accounts_email_lower_key')
    .on('accounts').expression(sql`lower(email)`).unique()
    .execute()

  // Generated at first start; the private key never leaves this table.
  await db.schema.withSchema('users').createTable('signing_keys')
    .addColumn('kid', 'text', col => col.primaryKey())
    .addColumn('algorithm', 'text', col => col.notNull())
    .addColumn('private_key_pem', 'text', col => col.notNull())
    .addColumn('public_jwk', 'jsonb', col => col.notNull())
    .addColumn('created_at', 'timestamptz', col => col.notNull().defaultTo(sql`now()`))
    .execute()

  await createOutboxTable(db, 'users')
}

export async function down (db: Kysely<any>): Promise<void> {
  await dropOutboxTable(db, 'users')
  await db.schema.withSchema('users').dropTable('signing_keys').execute()
  await db.schema.withSchema('users').dropTable('accounts').execute()
}
