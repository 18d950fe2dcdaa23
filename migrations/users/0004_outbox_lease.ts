import type { Kysely } from 'kysely'
import { addOutboxLease, dropOutboxLease } from '@orders/outbox'

// The relays lease the rows they publish instead of holding a transaction open (issue 13).
export async function up (db: Kysely<any>): Promise<void> {
  await addOutboxLease(db, 'users')
}

export async function down (db: Kysely<any>): Promise<void> {
  await dropOutboxLease(db, 'users')
}
