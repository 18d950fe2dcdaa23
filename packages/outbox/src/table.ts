import { sql, type ColumnType, type Generated, type Kysely } from 'kysely'

/**
 * The outbox table, the same shape in every service's own schema. A row is written in the
 * same transaction as the state change it announces; a relay leases it (`leased_until`) while
 * it publishes, sets `published_at` once the broker confirmed the message, and deletes
 * published rows once their retention has passed.
 */
export interface OutboxTable {
  /** Also the AMQP `messageId`, so consumers can recognise a redelivery. */
  id: Generated<string>
  exchange: string
  routing_key: string
  payload: ColumnType<unknown, string, string>
  /** AMQP headers to send along, e.g. the request id that caused the event. */
  headers: ColumnType<Record<string, string>, string, string>
  created_at: ColumnType<Date, never, never>
  published_at: ColumnType<Date | null, never, Date>
  /** While a relay publishes the row, no other takes it; a crashed relay's lease runs out. */
  leased_until: ColumnType<Date | null, never, Date | null>
}

export interface OutboxDatabase { outbox: OutboxTable }

/** Used by each schema's migration that introduces its outbox. */
export async function createOutboxTable (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).createTable('outbox')
    .addColumn('id', 'uuid', col => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('exchange', 'text', col => col.notNull())
    .addColumn('routing_key', 'text', col => col.notNull())
    .addColumn('payload', 'jsonb', col => col.notNull())
    .addColumn('headers', 'jsonb', col => col.notNull().defaultTo(sql`'{}'::jsonb`))
    // clock_timestamp, not now(): rows of one long transaction still get distinct, ordered times.
    .addColumn('created_at', 'timestamptz', col => col.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('published_at', 'timestamptz')
    .execute()
  // The relay only ever looks for unpublished rows, oldest first: keep that index tiny.
  await db.schema.withSchema(schema).createIndex('outbox_unpublished_idx')
    .on('outbox').column('created_at').where(sql.ref('published_at'), 'is', null)
    .execute()
}

/** Lets the relay delete published rows past their retention without scanning the table. */
export async function createOutboxPublishedIndex (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).createIndex('outbox_published_idx')
    .on('outbox').column('published_at').where(sql.ref('published_at'), 'is not', null)
    .execute()
}

/** The relays' lease on the rows they are publishing (claim, publish, mark: no open transaction). */
export async function addOutboxLease (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).alterTable('outbox').addColumn('leased_until', 'timestamptz').execute()
}

export async function dropOutboxLease (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).alterTable('outbox').dropColumn('leased_until').execute()
}

export async function dropOutboxPublishedIndex (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).dropIndex('outbox_published_idx').execute()
}

export async function dropOutboxTable (db: Kysely<any>, schema: string): Promise<void> {
  await db.schema.withSchema(schema).dropTable('outbox').execute()
}
