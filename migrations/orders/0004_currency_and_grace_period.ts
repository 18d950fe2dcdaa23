import { sql, type Kysely } from 'kysely'

/**
 * Every order gets a currency (ISO 4217) and the end of its grace period (`cancellable_until`,
 * before which the processor does not take it). Orders placed before were all in the one
 * currency the platform had, EUR (DEFAULT_CURRENCY's default), and had no grace period: their
 * window ends when they were created. New rows always name both (no column default), so a
 * writer that forgets one fails loudly instead of storing a guess.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await sql`alter table orders.orders
    add column currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
    add column cancellable_until timestamptz(3)`.execute(db)
  await sql`update orders.orders set cancellable_until = created_at`.execute(db)
  await sql`alter table orders.orders
    alter column currency drop default,
    alter column cancellable_until set not null`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`alter table orders.orders drop column currency, drop column cancellable_until`.execute(db)
}
